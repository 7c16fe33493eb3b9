import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMatrix } from '../harness/matrix/load.js';
import { expandMatrix } from '../harness/matrix/expand.js';
import { runMatrix, type RunProgress } from '../harness/run/run-matrix.js';
import type { BenchLine } from './stats.js';

const quiet: RunProgress = { cellStarted() {}, cellFinished() {}, message() {}, close() {} };

/** Peak RSS of the harness over a 1,000-cell local-backend run: results are streamed, not held. */
export async function benchMemory(cellCount = 1000): Promise<BenchLine[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bw-bench-memory-'));
  const file = join(dir, 'thousand.yaml');
  const a = Math.ceil(Math.sqrt(cellCount));
  const values = (n: number) => `[${Array.from({ length: n }, (_, i) => i).join(', ')}]`;
  writeFileSync(
    file,
    `name: thousand
app:
  command: ["true"]
  timeout: 30s
defaults: {backend: local}
axes:
  a: ${values(a)}
  b: ${values(Math.ceil(cellCount / a))}
timeout: 30s
`,
  );
  try {
    const matrix = await loadMatrix(file);
    const cells = expandMatrix(matrix).cells.slice(0, cellCount);
    const before = process.memoryUsage().rss;
    const started = performance.now();
    const outcome = await runMatrix(matrix, cells, { reportsRoot: join(dir, 'reports'), concurrency: 4, signal: new AbortController().signal, progress: quiet });
    const wall = performance.now() - started;
    const peakMiB = process.resourceUsage().maxRSS / 1024;
    return [
      { name: `${cells.length} local cells: wall time`, value: wall, unit: 'ms', detail: `${outcome.record.cells.filter((c) => c.outcome === 'passed').length} passed` },
      { name: 'harness RSS before the run', value: before / 2 ** 20, unit: 'MiB' },
      { name: 'harness peak RSS (target < 150 MB)', value: peakMiB, unit: 'MiB' },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
