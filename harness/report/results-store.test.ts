import { afterEach, describe, expect, it } from 'vitest';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ResultsStore, readResults } from './results-store.js';
import { fixtureCell, fixtureRecord } from './fixture.test-helper.js';
import { useTempDirs } from './temp-dirs.test-helper.js';

const tempDir = useTempDirs();
const stores: ResultsStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

async function createStore() {
  const dir = join(tempDir(), 'run');
  const { cells, finishedAt: _finished, interrupted: _interrupted, ...header } = fixtureRecord();
  const store = await ResultsStore.create(dir, header);
  stores.push(store);
  return { dir, store, cells, header };
}

describe('results store', () => {
  it('has every finished cell on disk before finish, and ignores the half-written line of a crash', async () => {
    const { dir, store, cells } = await createStore();
    await Promise.all(cells.slice(0, 3).map((c) => store.append(c)));
    appendFileSync(join(dir, 'results.jsonl'), '{"type":"cell","cell":{"id":"half-writ');
    const crashed = await readResults(dir);
    expect(crashed.cells.map((c) => c.id).sort()).toEqual(cells.slice(0, 3).map((c) => c.id).sort());
    expect(crashed.interrupted).toBe(true);
    expect(crashed.finishedAt).toBeUndefined();
  });

  it('never interleaves concurrent appends, even of large results', async () => {
    const { dir, store } = await createStore();
    const big = (i: number) => fixtureCell({ id: `cell-${i}`, log: Array.from({ length: 400 }, (_, t) => ({ t, source: 'console' as const, text: `${i}:${t} ${'x'.repeat(200)}` })) });
    await Promise.all(Array.from({ length: 60 }, (_, i) => store.append(big(i))));
    const lines = readFileSync(join(dir, 'results.jsonl'), 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(61);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    const record = await readResults(dir);
    expect(record.cells).toHaveLength(60);
    expect(record.cells.every((c) => c.log.length === 400 && c.log[399]!.text.startsWith(`${c.id.slice(5)}:399`))).toBe(true);
  });

  it('resumes after a crash mid-write: cuts the partial line, the last result of a cell wins, finish closes the run', async () => {
    const { dir, store, cells } = await createStore();
    await store.append({ ...cells[0]!, outcome: 'interrupted' });
    await store.append(cells[1]!);
    await store.close();
    appendFileSync(join(dir, 'results.jsonl'), '{"type":"cell","cell":{"id":"qemu-max');

    const { store: resumed, record } = await ResultsStore.open(dir);
    stores.push(resumed);
    expect(record.cells.map((c) => [c.id, c.outcome])).toEqual([
      [cells[0]!.id, 'interrupted'],
      [cells[1]!.id, cells[1]!.outcome],
    ]);
    await resumed.append(cells[0]!);
    await resumed.append(cells[2]!);
    const finished = await resumed.finish({ interrupted: false });
    expect(finished).not.toHaveProperty('cells');
    expect(finished.finishedAt).toBeDefined();

    const read = await readResults(dir);
    expect(read.cells).toHaveLength(3);
    expect(read.cells.find((c) => c.id === cells[0]!.id)!.outcome).toBe('passed');
    expect(read.interrupted).toBe(false);
    expect(readFileSync(join(dir, 'results.jsonl'), 'utf8')).not.toContain('qemu-max{');
  });

  it('a run resumed after a finished one is interrupted again until its own trailer', async () => {
    const { dir, store, cells } = await createStore();
    await store.append(cells[0]!);
    await store.finish({ interrupted: true });
    const { store: resumed } = await ResultsStore.open(dir);
    stores.push(resumed);
    await resumed.append(cells[1]!);
    expect((await readResults(dir)).interrupted).toBe(true);
    await resumed.finish({ interrupted: false });
    expect((await readResults(dir)).interrupted).toBe(false);
  });

  it('refuses to resume a run of a matrix file that has changed since', async () => {
    const { dir, store, header } = await createStore();
    await store.close();
    await expect(ResultsStore.open(dir, { matrixHash: 'c'.repeat(64) })).rejects.toMatchObject({ code: 'RESUME_MISMATCH' });
    const { store: same } = await ResultsStore.open(dir, { matrixHash: header.matrix.hash });
    stores.push(same);
  });

  it('refuses to overwrite a run, to append after close, and names a folder that is no run', async () => {
    const { dir, store, header } = await createStore();
    await expect(ResultsStore.create(dir, header)).rejects.toMatchObject({ code: 'RESULTS_EXIST' });
    await store.close();
    await expect(store.append(fixtureCell({ id: 'late' }))).rejects.toMatchObject({ code: 'RESULTS_CLOSED' });
    await expect(readResults(tempDir())).rejects.toMatchObject({ code: 'RESULTS_MISSING' });
  });

  it('refuses a corrupt line in the middle of the file instead of silently dropping results', async () => {
    const { dir, store, cells } = await createStore();
    await store.append(cells[0]!);
    appendFileSync(join(dir, 'results.jsonl'), 'garbage\n');
    await store.append(cells[1]!);
    await expect(readResults(dir)).rejects.toMatchObject({ code: 'RESULTS_INVALID', message: expect.stringContaining('results.jsonl:3') });
  });
});
