import { makeTempDir } from '../harness/core/temp-dir.js';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadMatrix } from '../harness/matrix/load.js';
import { expandMatrix } from '../harness/matrix/expand.js';
import { runMatrix, type RunProgress } from '../harness/run/run-matrix.js';
import type { BenchLine } from './stats.js';

const quiet: RunProgress = { cellStarted() {}, cellFinished() {}, message() {}, close() {} };

const MATRIX_12 = `name: bench-12
app:
  command: [/bin/sh, -c, "nproc; sleep 1"]
  timeout: 60s
defaults: {backend: qemu, memory: 384M, machine: q35, accel: auto}
axes:
  cpu: [Nehalem, SandyBridge, max]
  vcpus: [1, 2]
  maxvcpus: [2]
  events: [none, pause]
scenarios:
  none: []
  pause:
    - {at: 200ms, do: pause, with: {duration: 300ms}}
timeout: 180s
`;

/** 24 cells, 4 per configuration: the 12-cell matrix with a user axis (two builds of the app, say). */
const MATRIX_24 = MATRIX_12.replace('name: bench-12', 'name: bench-24').replace('  events: [none, pause]', '  events: [none, pause]\n  build: [a, b]');

/**
 * A matrix end to end, cold boots then snapshots, each with an empty snapshot folder: the
 * snapshot run pays for every configuration's first boot and save, as a first run in CI does.
 */
async function coldVsSnapshots(text: string, label: string, target: string): Promise<BenchLine[]> {
  const dir = makeTempDir('bench-matrix-');
  const file = join(dir, 'bench.yaml');
  writeFileSync(file, text);
  const lines: BenchLine[] = [];
  try {
    const matrix = await loadMatrix(file);
    const { cells } = expandMatrix(matrix);
    const times: Record<string, number> = {};
    for (const snapshots of [false, true]) {
      const messages: string[] = [];
      const progress: RunProgress = { ...quiet, message: (text) => void messages.push(text) };
      const started = performance.now();
      const outcome = await runMatrix(matrix, cells, { reportsRoot: join(dir, 'reports'), snapshots, snapshotDir: join(dir, 'snapshots'), signal: new AbortController().signal, progress });
      const wall = performance.now() - started;
      const how = snapshots ? 'with snapshots' : 'cold boots';
      times[how] = wall;
      const passed = outcome.record.cells.filter((c) => c.outcome === 'passed').length;
      const restored = outcome.record.cells.filter((c) => c.metrics.snapshot_restored?.value === 1).length;
      const concurrency = /(\d+) at a time/.exec(messages.find((m) => m.includes('at a time')) ?? '')?.[1] ?? '?';
      // Why a cell that could have been restored was not (a save or a restore that failed, a snapshot
      // that would not pay), and why a cell did not pass: an unexplained count is no result.
      const trouble = snapshots ? messages.filter((m) => /could not/.test(m) || (/: cold boot \(/.test(m) && !m.includes('it donates'))) : [];
      const failed = outcome.record.cells.filter((c) => c.outcome !== 'passed').map((c) => `${c.id} ${c.outcome}: ${c.reason ?? '(no reason)'}`);
      const why = [...failed, ...trouble].map((m) => `; ${m.slice(0, 200)}`).join('');
      lines.push({ name: `${label}, ${how}`, value: wall, unit: 'ms', detail: `${passed}/${cells.length} passed, ${restored} restored, ${concurrency} at a time${why}` });
    }
    lines.push({ name: `${label}: ratio with snapshots / cold boots (target ${target})`, value: times['with snapshots']! / times['cold boots']!, unit: 'ratio' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return lines;
}

/** The 12-cell quickstart-style matrix (6 configurations of 2 cells) and a 24-cell one (4 per configuration). */
export async function benchMatrixRun(): Promise<BenchLine[]> {
  return [...(await coldVsSnapshots(MATRIX_12, '12-cell matrix (2 cells per configuration)', '<= 0.6')), ...(await coldVsSnapshots(MATRIX_24, '24-cell matrix (4 cells per configuration)', '<= 0.4'))];
}

/** The same 8-cell matrix at concurrency 1 and 2: how far the runner's parallelism scales on this host. */
export async function benchMatrixConcurrency(): Promise<BenchLine[]> {
  const dir = makeTempDir('bench-conc-');
  const file = join(dir, 'eight.yaml');
  writeFileSync(file, `name: bench-8\napp:\n  command: [/bin/sh, -c, "sleep 2"]\n  timeout: 60s\ndefaults: {backend: qemu, memory: 256M}\naxes:\n  cpu: [Nehalem, max]\n  n: [1, 2, 3, 4]\ntimeout: 180s\n`);
  const lines: BenchLine[] = [];
  try {
    const matrix = await loadMatrix(file);
    const { cells } = expandMatrix(matrix);
    const wall: Record<number, number> = {};
    for (const concurrency of [1, 2]) {
      const started = performance.now();
      await runMatrix(matrix, cells, { reportsRoot: join(dir, 'reports'), concurrency, signal: new AbortController().signal, progress: quiet });
      wall[concurrency] = performance.now() - started;
      lines.push({ name: `${cells.length}-cell matrix at concurrency ${concurrency}`, value: wall[concurrency]!, unit: 'ms' });
    }
    lines.push({ name: 'throughput ratio concurrency 2 / 1 (target >= 1.8)', value: wall[1]! / wall[2]!, unit: 'ratio' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return lines;
}
