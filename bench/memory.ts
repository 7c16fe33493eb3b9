import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { loadMatrix } from '../harness/matrix/load.js';
import { expandMatrix } from '../harness/matrix/expand.js';
import { runMatrix, type RunProgress } from '../harness/run/run-matrix.js';
import type { BenchLine } from './stats.js';

const quiet: RunProgress = { cellStarted() {}, cellFinished() {}, message() {}, close() {} };
const MARK = 'bothworlds-memory ';

interface MemoryRun {
  cells: number;
  passed: number;
  wallMs: number;
  beforeMiB: number;
  peakMiB: number;
  /** RSS sampled as cells finish: what the run phase holds, before reports. */
  runPeakMiB: number;
}

/** One run of `count` local cells in this process (peak RSS is per process: called in a fresh one). */
export async function measureLocalRun(count: number): Promise<MemoryRun> {
  const dir = mkdtempSync(join(tmpdir(), 'bw-bench-memory-'));
  const file = join(dir, 'many.yaml');
  const a = Math.ceil(Math.sqrt(count));
  const values = (n: number) => `[${Array.from({ length: n }, (_, i) => i).join(', ')}]`;
  writeFileSync(file, `name: many\napp:\n  command: ["true"]\n  timeout: 30s\ndefaults: {backend: local}\naxes:\n  a: ${values(a)}\n  b: ${values(Math.ceil(count / a))}\ntimeout: 30s\n`);
  try {
    const matrix = await loadMatrix(file);
    const cells = expandMatrix(matrix).cells.slice(0, count);
    const beforeMiB = process.memoryUsage().rss / 2 ** 20;
    let runPeakMiB = 0;
    const progress: RunProgress = { ...quiet, cellFinished: () => void (runPeakMiB = Math.max(runPeakMiB, process.memoryUsage().rss / 2 ** 20)) };
    const started = performance.now();
    const outcome = await runMatrix(matrix, cells, { reportsRoot: join(dir, 'reports'), concurrency: 4, signal: new AbortController().signal, progress });
    return {
      cells: cells.length,
      passed: outcome.record.cells.filter((c) => c.outcome === 'passed').length,
      wallMs: performance.now() - started,
      beforeMiB,
      peakMiB: process.resourceUsage().maxRSS / 1024,
      runPeakMiB,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function inFreshProcess(count: number): Promise<MemoryRun> {
  const child = await execa(process.execPath, [fileURLToPath(import.meta.url), String(count)]);
  const line = child.stdout.split('\n').find((l) => l.startsWith(MARK));
  if (!line) throw new Error(`memory run of ${count} cells printed no result: ${child.stdout.slice(-300)} ${child.stderr.slice(-300)}`);
  return JSON.parse(line.slice(MARK.length)) as MemoryRun;
}

/** Peak RSS of the harness over 1,000 and 10,000 local-backend cells, each in a process of its own. */
export async function benchMemory(sizes = [1_000, 10_000]): Promise<BenchLine[]> {
  const runs: MemoryRun[] = [];
  for (const size of sizes) runs.push(await inFreshProcess(size));
  const lines: BenchLine[] = [];
  for (const run of runs) {
    lines.push(
      { name: `${run.cells} local cells: wall time`, value: run.wallMs, unit: 'ms', detail: `${run.passed} passed` },
      { name: `${run.cells} cells: harness RSS before the run`, value: run.beforeMiB, unit: 'MiB' },
      { name: `${run.cells} cells: peak RSS while cells run`, value: run.runPeakMiB, unit: 'MiB' },
      { name: `${run.cells} cells: harness peak RSS, reports included${run.cells === 1_000 ? ' (target < 150 MB = 143 MiB)' : ''}`, value: run.peakMiB, unit: 'MiB' },
    );
  }
  if (runs.length >= 2) {
    const [first, last] = [runs[0]!, runs.at(-1)!];
    lines.push({ name: `peak RSS growth ${first.cells} -> ${last.cells} cells (target: flat)`, value: last.peakMiB - first.peakMiB, unit: 'MiB', detail: `while running: ${(last.runPeakMiB - first.runPeakMiB).toFixed(0)} MiB` });
  }
  return lines;
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2]) {
  const run = await measureLocalRun(Number(process.argv[2]));
  process.stdout.write(`${MARK}${JSON.stringify(run)}\n`);
  process.exit(0);
}
