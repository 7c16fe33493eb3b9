import { makeTempDir } from '../harness/core/temp-dir.js';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { loadMatrix } from '../harness/matrix/load.js';
import { expandMatrixLazily } from '../harness/matrix/expand.js';
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
  /** Live heap of the checked expansion (measured after a forced GC): held for the whole run, cells made as they run. */
  cellListMiB: number;
  /** Live heap after the run, outcome and cell list still held (forced GC). */
  heapAfterMiB: number;
}

const gc = (globalThis as { gc?: () => void }).gc;
/** Live heap in MiB after a full collection (the child runs with --expose-gc). */
function liveHeapMiB(): number {
  gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

/** One run of `count` local cells in this process (peak RSS is per process: called in a fresh one). */
export async function measureLocalRun(count: number): Promise<MemoryRun> {
  const dir = makeTempDir('bench-memory-');
  const file = join(dir, 'many.yaml');
  // Two axes whose product is exactly `count` (1,000 = 25 x 40; 10,000 = 100 x 100).
  let a = Math.floor(Math.sqrt(count));
  while (count % a !== 0) a--;
  const values = (n: number) => `[${Array.from({ length: n }, (_, i) => i).join(', ')}]`;
  writeFileSync(file, `name: many\napp:\n  command: ["true"]\n  timeout: 30s\ndefaults: {backend: local}\naxes:\n  a: ${values(a)}\n  b: ${values(count / a)}\ntimeout: 30s\n`);
  try {
    const matrix = await loadMatrix(file);
    const heapBefore = liveHeapMiB();
    // As `bothworlds run` does: the cells are made as the run takes them.
    const cells = expandMatrixLazily(matrix).source;
    const cellListMiB = liveHeapMiB() - heapBefore;
    const beforeMiB = process.memoryUsage().rss / 2 ** 20;
    let runPeakMiB = 0;
    const progress: RunProgress = { ...quiet, cellFinished: () => void (runPeakMiB = Math.max(runPeakMiB, process.memoryUsage().rss / 2 ** 20)) };
    const started = performance.now();
    const outcome = await runMatrix(matrix, cells, { reportsRoot: join(dir, 'reports'), concurrency: 4, signal: new AbortController().signal, progress });
    return {
      cells: cells.size,
      passed: outcome.record.cells.filter((c) => c.outcome === 'passed').length,
      wallMs: performance.now() - started,
      beforeMiB,
      peakMiB: process.resourceUsage().maxRSS / 1024,
      runPeakMiB,
      cellListMiB,
      heapAfterMiB: liveHeapMiB(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function inFreshProcess(count: number): Promise<MemoryRun> {
  const child = await execa(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), String(count)]);
  const line = child.stdout.split('\n').find((l) => l.startsWith(MARK));
  if (!line) throw new Error(`memory run of ${count} cells printed no result: ${child.stdout.slice(-300)} ${child.stderr.slice(-300)}`);
  return JSON.parse(line.slice(MARK.length)) as MemoryRun;
}

/** Growth of the peak from the smallest to the largest run that still counts as flat: a tenth of the smaller peak. */
const FLAT = 0.1;

/** Peak RSS of the harness over 1,000 and 10,000 local-backend cells, each in a process of its own. */
export async function benchMemory(sizes = [1_000, 10_000]): Promise<BenchLine[]> {
  const runs: MemoryRun[] = [];
  for (const size of sizes) runs.push(await inFreshProcess(size));
  const lines: BenchLine[] = [];
  for (const run of runs) {
    lines.push(
      { name: `${run.cells} local cells: wall time`, value: run.wallMs, unit: 'ms', detail: `${run.passed} passed` },
      { name: `${run.cells} cells: harness RSS before the run`, value: run.beforeMiB, unit: 'MiB', detail: `the checked expansion, held for the run (cells are made as they run): ${run.cellListMiB.toFixed(1)} MiB of live heap` },
      { name: `${run.cells} cells: peak RSS while cells run`, value: run.runPeakMiB, unit: 'MiB' },
      { name: `${run.cells} cells: harness peak RSS, reports included${run.cells === 1_000 ? ' (target < 150 MB = 143 MiB)' : ''}`, value: run.peakMiB, unit: 'MiB', detail: `live heap after the run: ${run.heapAfterMiB.toFixed(1)} MiB` },
    );
  }
  if (runs.length >= 2) {
    const [first, last] = [runs[0]!, runs.at(-1)!];
    const growth = last.peakMiB - first.peakMiB;
    const share = growth / first.peakMiB;
    lines.push({
      name: `peak RSS growth ${first.cells} -> ${last.cells} cells (flat: <= ${FLAT * 100}% of the ${first.cells}-cell peak)`,
      value: growth,
      unit: 'MiB',
      detail: `${(share * 100).toFixed(1)}% (${share <= FLAT ? 'met' : 'not met'}); while cells run: ${(last.runPeakMiB - first.runPeakMiB).toFixed(1)} MiB; the larger expansion: +${(last.cellListMiB - first.cellListMiB).toFixed(1)} MiB of it; live heap after the run: +${(last.heapAfterMiB - first.heapAfterMiB).toFixed(1)} MiB`,
    });
  }
  return lines;
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2]) {
  const run = await measureLocalRun(Number(process.argv[2]));
  process.stdout.write(`${MARK}${JSON.stringify(run)}\n`);
  process.exit(0);
}
