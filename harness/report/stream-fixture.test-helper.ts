import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CellResult } from '../model/result.js';
import type { Qualification } from '../model/qualification.js';
import type { RunRecord } from './run-record.js';
import { fixtureCell, fixtureRecord } from './fixture.test-helper.js';

/**
 * The fixture run plus what the index aggregates over several cells: a repeated, quarantined flaky
 * cell, an ISA prediction, two more Nehalem cells (a world's median of several) and a second local
 * cell (a second physical world).
 */
export function streamFixtureRecord(): RunRecord {
  const record = fixtureRecord();
  const extra: CellResult[] = [
    fixtureCell({ id: 'qemu-nehalem-vcpus4-hhhhhh', axes: { backend: 'qemu', cpu: 'Nehalem', vcpus: 4 }, metrics: { boot_ms: { value: 1500, unit: 'ms' }, app_ms: { value: 1000, unit: 'ms' } } }),
    fixtureCell({
      id: 'qemu-nehalem-vcpus8-iiiiii',
      axes: { backend: 'qemu', cpu: 'Nehalem', vcpus: 8 },
      outcome: 'flaky',
      reason: 'passed 2 of 3 runs',
      quarantine: { cells: '*vcpus8*', reason: 'issue 99', expires: '2027-01-01', expired: false },
      repeats: {
        runs: [
          { outcome: 'passed', durationMs: 900 },
          { outcome: 'failed', reason: 'timeout', durationMs: 1200 },
          { outcome: 'passed', durationMs: 950 },
        ],
        passed: 2,
        total: 3,
        passRate: 2 / 3,
        metrics: {
          boot_ms: { unit: 'ms', n: 3, p50: 1600, p95: 1700, p99: 1700, mean: 1633, ci95: [1500, 1766] },
          'cpu-plug/ack_ms': { unit: 'ms', n: 3, p50: 30, p95: 35, p99: 35, mean: 31, ci95: [25, 37] },
        },
        detailsFrom: 2,
      },
    }),
    fixtureCell({
      id: 'qemu-nehalem-vcpus16-jjjjjj',
      axes: { backend: 'qemu', cpu: 'Nehalem', vcpus: 16 },
      outcome: 'failed',
      reason: 'killed by SIGILL',
      isa: {
        needs: ['avx', 'avx2'],
        needsText: 'x86-64-v3 (avx, avx2)',
        cpu: 'Nehalem',
        lacking: [{ flag: 'avx2', evidence: 'scan', file: 'app', detail: 'vpbroadcastd in main at 0x40151e' }],
        dispatch: ['libfoo.so: 2 ifuncs'],
        expected: 'expected to fail: the app needs avx2',
      },
    }),
    fixtureCell({
      id: 'local-second-kkkkkk',
      axes: { backend: 'local', cpu: 'host', vcpus: 4 },
      backend: 'local',
      accel: 'none',
      outcome: 'incomplete',
      reason: 'cpu-plug not done',
      metrics: { app_ms: { value: 700, unit: 'ms' } },
      facts: { ...record.cells.at(-1)!.facts!, cpuFlags: ['fpu', 'sse4_2', 'avx2'] },
    }),
  ];
  record.cells.push(...extra);
  record.cellIds = [...record.cells.map((c) => c.id), 'qemu-sandybridge-vcpus2-gggggg'];
  return record;
}

export const FIXTURE_QUALIFICATION: Qualification = {
  verdict: 'not qualified',
  reasons: [{ kind: 'required-not-passed', cell: 'qemu-sandybridge-vcpus1-bbbbbb', message: 'required cell qemu-sandybridge-vcpus1-bbbbbb failed: <workers>' }],
  notes: ['limit "cell.boot_ms <= 10s" holds: max of 5 sample(s) = 1.7 s'],
  policy: { file: 'policy.yaml', inline: false, sha256: 'b'.repeat(64) },
  asOf: '2026-11-25',
};

/**
 * results.jsonl as a resumed run leaves it: the first cell recorded interrupted early on and again
 * at the end (the last line wins, and the cell moves to the end), a trailer, and a half-written
 * last line (a crash) that readers ignore.
 */
export function writeFixtureRun(dir: string, record: RunRecord = streamFixtureRecord()): void {
  mkdirSync(dir, { recursive: true });
  const { cells, finishedAt, interrupted, qualification: _, ...header } = record;
  const [first, ...rest] = cells;
  const lines = [
    { type: 'header', header },
    { type: 'cell', cell: { ...first!, outcome: 'interrupted', reason: 'SIGTERM' } },
    ...rest.map((cell) => ({ type: 'cell', cell })),
    { type: 'cell', cell: first },
    { type: 'finish', finishedAt, interrupted },
  ];
  writeFileSync(join(dir, 'results.jsonl'), `${lines.map((l) => JSON.stringify(l)).join('\n')}\n{"type":"cell","cell":{"id":"torn`);
}
