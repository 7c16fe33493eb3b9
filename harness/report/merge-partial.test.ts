import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertComparable } from './compare.js';
import { fixtureRecord } from './fixture.test-helper.js';
import { mergeRuns, writeMergedResults } from './merge.js';
import { ResultsStore, readResults } from './results-store.js';
import type { RunRecord } from './run-record.js';
import { useTempDirs } from './temp-dirs.test-helper.js';

const tempDir = useTempDirs();

/** Shard k of n of the fixture matrix, written through the store as `run --shard k/n` would. */
async function shard(index: number, total: number, options: { finish?: boolean } = {}): Promise<RunRecord> {
  const { cells, cellIds, finishedAt: _f, interrupted: _i, ...header } = fixtureRecord();
  const mine = cells.filter((_, i) => i % total === index - 1);
  const dir = join(tempDir(), `shard-${index}-${Math.random().toString(36).slice(2)}`);
  const store = await ResultsStore.create(dir, { ...header, runId: `r-${index}`, shard: { index, total }, cellIds: mine.map((c) => c.id) });
  for (const cell of mine) await store.append(cell);
  if (options.finish === false) await store.close();
  else await store.finish({ interrupted: false });
  return readResults(dir);
}

/** Issue 13, problem 9: no silent partial results. */
describe('merge and compare refuse partial or unrelated runs', () => {
  it('merge of shard 1 of 2 is refused, naming the missing shard; --allow-partial merges and says so', async () => {
    const one = await shard(1, 2);
    expect(() => mergeRuns([one])).toThrow(expect.objectContaining({ code: 'MERGE_PARTIAL', message: expect.stringContaining('shard 2 of 2 missing') }));
    const merged = mergeRuns([one], { allowPartial: true });
    expect(merged.cells).toHaveLength(one.cells.length);
  });

  it('merge of a shard that crashed (no trailer) is refused', async () => {
    const [one, two] = [await shard(1, 2), await shard(2, 2, { finish: false })];
    expect(() => mergeRuns([one, two])).toThrow(/r-2 did not finish/);
    expect(mergeRuns([one, two, await shard(2, 2)]).cells.length).toBe(fixtureRecord().cells.length);
  });

  it('the merged folder has a results.jsonl that reads back as the same record', async () => {
    const merged = mergeRuns([await shard(1, 2), await shard(2, 2)]);
    const out = tempDir();
    await writeMergedResults(merged, out);
    const back = await readResults(out);
    expect(back).toEqual(merged);
    expect(readFileSync(join(out, 'results.jsonl'), 'utf8').split('\n').filter(Boolean)).toHaveLength(merged.cells.length + 2);
    await expect(writeMergedResults(merged, out)).rejects.toMatchObject({ code: 'RESULTS_EXIST' });
  });

  it('compare refuses runs of different matrices, and a crashed or interrupted run, unless told', async () => {
    const full = mergeRuns([await shard(1, 1)]);
    const other: RunRecord = { ...full, runId: 'other', matrix: { ...full.matrix, name: 'another', hash: 'f'.repeat(64) } };
    expect(() => assertComparable([full], [other])).toThrow(expect.objectContaining({ code: 'COMPARE_MISMATCH' }));
    expect(() => assertComparable([full], [other], { allowDifferentMatrix: true })).not.toThrow();
    const crashed = await shard(1, 1, { finish: false });
    expect(() => assertComparable([full], [crashed])).toThrow(expect.objectContaining({ code: 'COMPARE_INCOMPLETE', message: expect.stringContaining('did not finish') }));
    const interrupted: RunRecord = { ...full, runId: 'int', interrupted: true };
    expect(() => assertComparable([full], [interrupted])).toThrow(/int: run int was interrupted/);
    expect(() => assertComparable([full], [crashed], { allowIncomplete: true })).not.toThrow();
    expect(() => assertComparable([full], [full])).not.toThrow();
  });
});
