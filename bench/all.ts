import { mkdirSync, writeFileSync } from 'node:fs';
import { printLines, type BenchLine } from './stats.js';
import { benchCellReady } from './cell-ready.js';
import { benchOverhead } from './overhead.js';
import { benchConcurrency } from './concurrency.js';
import { benchMatrixConcurrency, benchMatrixRun } from './matrix-run.js';
import { benchEvents } from './events.js';
import { benchMatrixExpand } from './matrix-expand.js';
import { benchReportScale } from './report-scale.js';
import { benchMemory } from './memory.js';
import { benchShards } from './shards.js';
import { execa } from 'execa';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const CHILD_MARK = 'bothworlds-bench-result ';

async function inChildProcess(name: string): Promise<BenchLine[]> {
  const child = await execa(process.execPath, [fileURLToPath(import.meta.url), name], { env: { BOTHWORLDS_BENCH_CHILD: '1' } });
  const line = child.stdout.split('\n').find((l) => l.startsWith(CHILD_MARK));
  if (!line) throw new Error(`benchmark ${name} printed no result: ${child.stdout.slice(-500)}`);
  return (JSON.parse(line.slice(CHILD_MARK.length)) as Record<string, BenchLine[]>)[name]!;
}

/**
 * Every benchmark side by side in one run, so ratios compare like with like on this host.
 * `npm run bench` (all) or `npm run bench -- ready overhead` (some). Writes reports/bench.json.
 */
const BENCHES: Record<string, { title: string; run: () => Promise<BenchLine[]> }> = {
  ready: { title: 'Cell ready time: snapshot restore vs cold boot', run: () => benchCellReady() },
  overhead: { title: 'Harness overhead vs a bare QEMU script', run: () => benchOverhead() },
  concurrency: { title: 'Concurrency scaling of cold boots', run: () => benchConcurrency() },
  matrix: { title: 'Matrices end to end (12 and 24 cells): cold boots vs snapshots', run: () => benchMatrixRun() },
  scaling: { title: 'Runner concurrency: 8 cells at 1 vs 2', run: () => benchMatrixConcurrency() },
  events: { title: 'Event costs: migration downtime and hot-plug latency', run: () => benchEvents() },
  expand: { title: 'Matrix expansion', run: () => benchMatrixExpand() },
  reports: { title: 'Reports for 1,000 cells', run: () => benchReportScale() },
  shards: { title: 'CI sharding: 4 shards merged vs one run', run: () => benchShards() },
  memory: { title: 'Harness memory over 1,000 and 10,000 cells (local backend)', run: () => benchMemory() },
};

const chosen = process.argv.slice(2).filter((a) => a in BENCHES);
const names = chosen.length > 0 ? chosen : Object.keys(BENCHES);
const results: Record<string, BenchLine[]> = {};
// Other work on the host skews every figure: the load average is printed and kept with the results.
const loadAtStart = loadavg();
if (!process.env.BOTHWORLDS_BENCH_CHILD) process.stdout.write(`load average at start: ${loadAtStart.map((l) => l.toFixed(2)).join(' ')} (${availableParallelism()} cores)\n`);
for (const name of names) {
  const bench = BENCHES[name]!;
  // Peak RSS is per process: the memory benchmark gets a fresh one when others run too.
  const lines = name === 'memory' && names.length > 1 ? await inChildProcess(name) : await bench.run();
  if (!process.env.BOTHWORLDS_BENCH_CHILD) printLines(bench.title, lines);
  results[name] = lines;
}
if (process.env.BOTHWORLDS_BENCH_CHILD) {
  process.stdout.write(`${CHILD_MARK}${JSON.stringify(results)}\n`);
  process.exit(0);
}
mkdirSync('reports', { recursive: true });
const loadAtEnd = loadavg();
process.stdout.write(`\nload average at end: ${loadAtEnd.map((l) => l.toFixed(2)).join(' ')}\n`);
writeFileSync('reports/bench.json', `${JSON.stringify({ at: new Date().toISOString(), load: { start: loadAtStart, end: loadAtEnd }, results }, null, 2)}\n`);
process.stdout.write('\nwritten: reports/bench.json\n');
