import { makeTempDir } from '../harness/core/temp-dir.js';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CellResult } from '../harness/model/result.js';
import type { Outcome } from '../harness/model/outcome.js';
import { ResultsStore, readResults } from '../harness/report/results-store.js';
import type { RunRecord } from '../harness/report/run-record.js';
import { writeReports } from '../harness/report/write-all.js';
import { compareRuns } from '../harness/report/compare.js';
import { printLines, type BenchLine } from './stats.js';

const CPUS = ['qemu64', 'Nehalem', 'Westmere', 'SandyBridge', 'IvyBridge', 'Haswell', 'Broadwell', 'Skylake-Client', 'Cascadelake-Server', 'max'];
const BASE_FLAGS = Array.from({ length: 90 }, (_, i) => `flag${i}`);

/** A cell as a real run records it: facts, two events with series, 200 log lines, a suite. */
function syntheticCell(i: number, jitter: number): CellResult {
  const cpu = CPUS[i % CPUS.length]!;
  const outcome: Outcome = i % 37 === 0 ? 'failed' : i % 53 === 0 ? 'error' : i % 71 === 0 ? 'skipped' : 'passed';
  const points = (scale: number): Array<[number, number]> => Array.from({ length: 50 }, (_, k) => [3000 + k * 20, scale * Math.sin(k / 5) ** 2]);
  return {
    id: `qemu-${cpu.toLowerCase()}-vcpus${1 + (i % 4)}-mem${256 * (1 + (Math.floor(i / 40) % 5))}-r${Math.floor(i / 200)}-${i.toString(16).padStart(6, '0')}`,
    axes: { backend: 'qemu', cpu, vcpus: 1 + (i % 4), memory: `${256 * (1 + (Math.floor(i / 40) % 5))}M`, rep: Math.floor(i / 200) },
    backend: 'qemu',
    outcome,
    ...(outcome !== 'passed' ? { reason: `${outcome} because of synthetic reason ${i}` } : {}),
    attempts: [{ outcome, durationMs: 4000 }],
    startedAt: new Date(Date.UTC(2026, 10, 25) + i * 1000).toISOString(),
    durationMs: 4000 + jitter,
    metrics: { boot_ms: { value: 1700 + jitter, unit: 'ms' }, app_ms: { value: 2000 + jitter, unit: 'ms' }, cell_ms: { value: 4000 + jitter, unit: 'ms' } },
    accel: 'tcg',
    facts: { cpuModelName: `${cpu} model`, cpuFlags: [...BASE_FLAGS.slice(0, 60 + CPUS.indexOf(cpu) * 3), 'hypervisor'], onlineCpus: 1 + (i % 4), presentCpus: 4, memTotalKiB: 400_000, memAvailableKiB: 300_000, clocksource: 'tsc', availableClocksources: ['tsc', 'hpet'], kernelRelease: '6.1.0' },
    suites: [{ suite: 'hotplug-awareness', outcome: outcome === 'failed' ? 'failed' : 'passed', checks: [{ name: 'workers follow vCPUs', outcome: outcome === 'failed' ? 'failed' : 'passed', message: 'app went 1→2 workers' }], metrics: {}, durationMs: 500 }],
    events: [
      { kind: 'cpu-plug', label: 'cpu-plug', outcome: 'ok', requestedAtMs: 2000, acknowledgedAtMs: 2030, observedAtMs: 2300, durationMs: 300, metrics: { ack_ms: { value: 30, unit: 'ms' } } },
      { kind: 'migrate', label: 'migrate', outcome: 'ok', requestedAtMs: 3000, acknowledgedAtMs: 3900, observedAtMs: 4000, durationMs: 1000, metrics: { downtime_qemu_ms: { value: 12, unit: 'ms' }, downtime_heartbeat_ms: { value: 60 + jitter, unit: 'ms' } }, series: [{ name: 'throttle', unit: 'percent', points: points(40) }, { name: 'dirty', unit: 'bytes/s', points: points(1e7) }] },
    ],
    log: Array.from({ length: 200 }, (_, k) => ({ t: k * 20, source: k % 2 ? ('heartbeat' as const) : ('console' as const), text: k % 2 ? `hb ${k} ${k * 2e7} 0` : `[    ${(k / 50).toFixed(6)}] kernel line ${k} <with markup>` })),
  };
}

export function syntheticRun(cells: number, jitter: (i: number) => number): RunRecord {
  const list = Array.from({ length: cells }, (_, i) => syntheticCell(i, jitter(i)));
  return {
    schema: 'bothworlds/run@1',
    runId: 'bench',
    startedAt: '2026-11-25T00:00:00.000Z',
    finishedAt: '2026-11-25T01:00:00.000Z',
    matrix: { name: 'bench', path: '/bench.yaml', hash: 'b'.repeat(64) },
    environment: { hostCpuModel: 'bench host', hostCpuFlags: [...BASE_FLAGS, 'vmx'], hostKernel: '6.1', hostOs: 'Debian 12', kvm: { usable: false, reason: 'bench' }, nodeVersion: process.version, harnessVersion: '0', cores: 2, memoryMiB: 4096 },
    cellIds: list.map((c) => c.id),
    interrupted: false,
    cells: list,
  };
}

function folderBytes(dir: string): number {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).reduce((sum, e) => sum + statSync(join(e.parentPath, e.name)).size, 0);
}

/** Reports for a 1,000-cell run: store with fsync per cell, read back, all formats, compare 5 vs 5 repeats. */
export async function benchReportScale(cells = 1000): Promise<BenchLine[]> {
  const dir = makeTempDir('bench-report-');
  try {
    const record = syntheticRun(cells, (i) => (i * 7) % 13);
    const { cells: list, finishedAt: _f, interrupted: _i, ...header } = record;
    let t = performance.now();
    const store = await ResultsStore.create(join(dir, 'run'), header);
    await Promise.all(list.map((c) => store.append(c)));
    await store.finish({ interrupted: false });
    const appendMs = performance.now() - t;
    t = performance.now();
    const read = await readResults(join(dir, 'run'));
    const readMs = performance.now() - t;
    t = performance.now();
    const paths = await writeReports(read, join(dir, 'run'));
    const writeMs = performance.now() - t;
    const before = Array.from({ length: 5 }, (_, r) => syntheticRun(cells, (i) => ((i + r) * 7) % 13));
    const after = Array.from({ length: 5 }, (_, r) => syntheticRun(cells, (i) => ((i + r) * 7) % 13 + (i % 100 === 0 ? 1500 : 0)));
    t = performance.now();
    const comparison = compareRuns(before, after);
    const compareMs = performance.now() - t;
    return [
      { name: `store: ${cells} appends, fsync each`, value: appendMs, unit: 'ms', detail: `${(appendMs / cells).toFixed(2)} ms per cell` },
      { name: 'store: read back', value: readMs, unit: 'ms', detail: `${(statSync(join(dir, 'run', 'results.jsonl')).size / 2 ** 20).toFixed(1)} MiB of JSONL` },
      { name: 'all reports (json, junit, md, html + cell pages)', value: writeMs, unit: 'ms', detail: `${(folderBytes(join(dir, 'run')) / 2 ** 20).toFixed(1)} MiB in all` },
      { name: 'index.html size', value: statSync(paths.html).size / 1024, unit: 'KiB' },
      { name: 'compare 5 vs 5 runs', value: compareMs, unit: 'ms', detail: `${new Set(comparison.regressions.map((r) => r.id)).size} cells regressed of ${before[0]!.cells.filter((c, i) => i % 100 === 0 && c.outcome === 'passed').length} planted, ${comparison.regressions.length} metrics` },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) printLines('Reports for a 1,000-cell run', await benchReportScale());
