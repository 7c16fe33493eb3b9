import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMatrix } from '../harness/matrix/load.js';
import { expandMatrix } from '../harness/matrix/expand.js';
import { runMatrix, type RunProgress } from '../harness/run/run-matrix.js';
import type { BenchLine } from './stats.js';

const quiet: RunProgress = { cellStarted() {}, cellFinished() {}, message() {}, close() {} };

/** A 12-cell quickstart-style matrix (3 models x 2 vCPU counts x 2 scenarios), with and without snapshots. */
export async function benchMatrixRun(): Promise<BenchLine[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bw-bench-matrix-'));
  const file = join(dir, 'bench.yaml');
  writeFileSync(
    file,
    `name: bench-12
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
`,
  );
  const lines: BenchLine[] = [];
  try {
    const matrix = await loadMatrix(file);
    const { cells } = expandMatrix(matrix);
    const times: Record<string, number> = {};
    for (const snapshots of [false, true]) {
      const started = performance.now();
      const outcome = await runMatrix(matrix, cells, { reportsRoot: join(dir, 'reports'), snapshots, signal: new AbortController().signal, progress: quiet });
      const wall = performance.now() - started;
      const label = snapshots ? 'with snapshots' : 'cold boots';
      times[label] = wall;
      const passed = outcome.record.cells.filter((c) => c.outcome === 'passed').length;
      lines.push({ name: `${cells.length}-cell matrix end to end, ${label}`, value: wall, unit: 'ms', detail: `${passed}/${cells.length} passed` });
    }
    lines.push({ name: 'ratio with snapshots / cold boots', value: times['with snapshots']! / times['cold boots']!, unit: 'ratio' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return lines;
}

/** The same 8-cell matrix at concurrency 1 and 2: how far the runner's parallelism scales on this host. */
export async function benchMatrixConcurrency(): Promise<BenchLine[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bw-bench-conc-'));
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
