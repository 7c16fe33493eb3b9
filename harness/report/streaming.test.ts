import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, relative } from 'node:path';
import { RunFolder } from './results-read.js';
import { readResults, ResultsStore } from './results-store.js';
import { writeFolderReports, writeReports } from './write-all.js';
import { FIXTURE_QUALIFICATION, streamFixtureRecord, writeFixtureRun } from './stream-fixture.test-helper.js';
import { useTempDirs } from './temp-dirs.test-helper.js';

const tempDir = useTempDirs();

/**
 * sha256 of every report the in-memory writer made of the fixture run (readResults, then
 * writeReports of the whole record) at the commit before reports were streamed, the run folder's
 * path replaced by @RUN@: the streamed reports must be byte for byte the same.
 */
const GOLDEN = JSON.parse(readFileSync(new URL('./golden/reports-before-streaming.json', import.meta.url), 'utf8')) as Record<string, string>;

function hashes(dir: string, variant: string): Record<string, string> {
  const walk = (d: string): string[] => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)]));
  const out: Record<string, string> = {};
  for (const file of walk(dir).sort()) {
    const name = relative(dir, file);
    if (name !== 'results.jsonl') out[`${variant}/${name}`] = createHash('sha256').update(readFileSync(file, 'utf8').replaceAll(dir, '@RUN@')).digest('hex');
  }
  return out;
}

const golden = (variant: string) => Object.fromEntries(Object.entries(GOLDEN).filter(([k]) => k.startsWith(`${variant}/`)));

describe('reports streamed from results.jsonl', () => {
  it('are byte-identical to the in-memory writer of before, with and without a verdict', async () => {
    const plain = tempDir();
    writeFixtureRun(plain);
    const written = await writeFolderReports(await RunFolder.open(plain));
    expect(hashes(plain, 'plain')).toEqual(golden('plain'));
    const qualified = tempDir();
    writeFixtureRun(qualified);
    const folder = await RunFolder.open(qualified);
    await writeFolderReports(folder, { ...folder.info, qualification: FIXTURE_QUALIFICATION });
    expect(hashes(qualified, 'qualified')).toEqual(golden('qualified'));
    // The summaries it hands back are the cells' in report order: the resumed first cell last.
    const ids = streamFixtureRecord().cells.map((c) => c.id);
    expect(written.record.cells.map((c) => c.id)).toEqual([...ids.slice(1), ids[0]]);
    expect(written.record.cells.at(-1)).toMatchObject({ outcome: 'passed' });
    expect(written.record.cells.find((c) => c.id.includes('vcpus8'))?.repeats).not.toHaveProperty('runs');
  });

  it('match what the in-memory writer makes of the whole record', async () => {
    const dir = tempDir();
    writeFixtureRun(dir);
    await writeReports(await readResults(dir), dir);
    expect(hashes(dir, 'plain')).toEqual(golden('plain'));
  });

  it('read each cell once, its last line, in the order of those lines, past a half-written last line', async () => {
    const dir = tempDir();
    writeFixtureRun(dir);
    const folder = await RunFolder.open(dir);
    const seen: string[] = [];
    for await (const cell of folder.cells()) seen.push(`${cell.id}:${cell.outcome}`);
    expect(seen).toHaveLength(folder.count);
    expect(seen.at(-1)).toBe('qemu-nehalem-vcpus1-aaaaaa:passed');
    expect(new Set(seen.map((s) => s.split(':')[0])).size).toBe(seen.length);
    expect(folder.info).toMatchObject({ finishedAt: '2026-11-25T00:05:00.000Z', interrupted: false });
  });

  it('keep the head of a run written by the store as before: interrupted, then finishedAt', async () => {
    const dir = join(tempDir(), 'run');
    const { cells, finishedAt: _f, interrupted: _i, qualification: _q, ...header } = streamFixtureRecord();
    const store = await ResultsStore.create(dir, header);
    for (const cell of cells) await store.append(cell);
    const finished = await store.finish({ interrupted: false });
    expect(finished).not.toHaveProperty('cells');
    const { paths } = await writeFolderReports(await RunFolder.open(dir), finished);
    const head = Object.keys(JSON.parse(readFileSync(paths.json, 'utf8')) as object);
    expect(head.slice(-3)).toEqual(['interrupted', 'finishedAt', 'cells']);
    expect((JSON.parse(readFileSync(paths.json, 'utf8')) as { cells: unknown[] }).cells).toEqual(JSON.parse(JSON.stringify(cells)));
  });
});
