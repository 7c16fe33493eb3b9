import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { mergeRuns } from './merge.js';
import { ResultsStore, readResults } from './results-store.js';
import { fixtureRecord } from './fixture.test-helper.js';
import { useTempDirs } from './temp-dirs.test-helper.js';
import type { RunRecord } from './run-record.js';

const tempDir = useTempDirs();

/** Two shards of the fixture matrix, written through the store as a sharded run would. */
async function shards(): Promise<RunRecord[]> {
  const { cells, cellIds, finishedAt: _f, interrupted: _i, ...header } = fixtureRecord();
  const split = [
    { index: 1, cells: cells.slice(0, 2), cellIds: cellIds.filter((_, i) => i % 2 === 0), startedAt: '2026-11-25T00:00:00.000Z' },
    { index: 2, cells: cells.slice(2), cellIds: cellIds.filter((_, i) => i % 2 === 1), startedAt: '2026-11-25T00:00:05.000Z' },
  ];
  const records: RunRecord[] = [];
  for (const part of split) {
    const dir = join(tempDir(), `shard-${part.index}`);
    const store = await ResultsStore.create(dir, { ...header, runId: `r-${part.index}`, startedAt: part.startedAt, shard: { index: part.index, total: 2 }, cellIds: part.cellIds });
    for (const cell of part.cells) await store.append(cell);
    await store.finish({ interrupted: false });
    records.push(await readResults(dir));
  }
  return records;
}

describe('merge', () => {
  it('merges shards of one matrix into one record', async () => {
    const [a, b] = await shards();
    const merged = mergeRuns([b!, a!]);
    expect(merged.cells.map((c) => c.id).sort()).toEqual(fixtureRecord().cells.map((c) => c.id).sort());
    expect(merged.cellIds.sort()).toEqual(fixtureRecord().cellIds.sort());
    expect(merged.shard).toBeUndefined();
    expect(merged.runId).toBe('r-2+r-1');
    expect(merged.startedAt).toBe('2026-11-25T00:00:00.000Z');
    expect(merged.finishedAt).toBe([a!.finishedAt!, b!.finishedAt!].sort()[1]);
    expect(merged.interrupted).toBe(false);
  });

  it('lets the later run of a cell win, and an interrupted shard makes the merge interrupted', async () => {
    const [a, b] = await shards();
    const { finishedAt: _unfinished, ...first } = a!;
    const rerun: RunRecord = { ...first, runId: 'r-1b', startedAt: '2026-11-25T01:00:00.000Z', interrupted: true, cells: [{ ...a!.cells[1]!, outcome: 'passed', reason: 'fixed' }] };
    const merged = mergeRuns([rerun, a!, b!], { allowPartial: true }); // the rerun never finished
    expect(merged.cells.find((c) => c.id === a!.cells[1]!.id)!.reason).toBe('fixed');
    expect(merged.interrupted).toBe(true);
    expect(merged.finishedAt).toBeUndefined();
  });

  it('refuses shards of different matrices or split differently', async () => {
    const [a, b] = await shards();
    expect(() => mergeRuns([a!, { ...b!, matrix: { ...b!.matrix, hash: 'b'.repeat(64) } }])).toThrow(expect.objectContaining({ code: 'MERGE_MISMATCH', message: expect.stringContaining('different matrix files') }));
    expect(() => mergeRuns([a!, { ...b!, shard: { index: 2, total: 3 } }])).toThrow(/split the matrix differently/);
    expect(() => mergeRuns([])).toThrow(expect.objectContaining({ code: 'MERGE_EMPTY' }));
  });
});
