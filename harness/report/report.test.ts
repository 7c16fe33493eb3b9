import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { XMLParser } from 'fast-xml-parser';
import { writeReports } from './write-all.js';
import { compareRuns, formatComparison } from './compare.js';
import { mergeRuns } from './merge.js';
import { collectEnvironment } from './environment.js';
import { fixtureCell, fixtureRecord } from './fixture.test-helper.js';
import type { RunRecord } from './run-record.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-report-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('compare and merge', () => {
  const runWith = (samples: number[]): RunRecord[] =>
    samples.map((ms, i) => ({ ...fixtureRecord(), runId: `r${i}`, cells: [fixtureCell({ id: 'x', metrics: { app_ms: { value: ms, unit: 'ms' } } })] }));
  const spread = (centre: number) => [centre - 3, centre + 1, centre - 1, centre + 3, centre];

  it('flags a real regression over repeats and not noise', () => {
    const regressed = compareRuns(runWith(spread(100)), runWith(spread(130)));
    expect(regressed.regressions.map((r) => r.metric)).toEqual(['app_ms']);
    expect(regressed.regressions[0]!.pValue).toBeLessThan(0.05);
    const noise = compareRuns(runWith(spread(100)), runWith([101, 99, 103, 98, 100]));
    expect(noise.regressions).toEqual([]);
    expect(formatComparison(regressed, 'text')).toMatch(/x: ?app_ms|x app_ms: 100\.0 → 130\.0 ms/);
  });

  it('reports outcome changes and says when only one run per side was given', () => {
    const before = fixtureRecord();
    const after = { ...fixtureRecord(), cells: fixtureRecord().cells.map((c) => (c.id === 'qemu-nehalem-vcpus1-aaaaaa' ? { ...c, outcome: 'failed' as const } : c)) };
    const comparison = compareRuns([before], [after]);
    expect(comparison.changed).toEqual([{ id: 'qemu-nehalem-vcpus1-aaaaaa', before: 'passed', after: 'failed' }]);
    expect(comparison.notes[0]).toMatch(/one run per side/);
  });

  it('merges shards of one matrix and refuses shards of different matrices', () => {
    const record = fixtureRecord();
    const a = { ...record, shard: { index: 1, total: 2 }, cells: record.cells.slice(0, 2) };
    const b = { ...record, runId: 'r2', shard: { index: 2, total: 2 }, cells: record.cells.slice(2) };
    expect(mergeRuns([a, b]).cells).toHaveLength(6);
    expect(() => mergeRuns([a, { ...b, matrix: { ...b.matrix, hash: 'b'.repeat(64) } }])).toThrow(/different matrix files/);
  });
});
