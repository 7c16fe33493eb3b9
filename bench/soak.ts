import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import { projectRoot } from '../harness/core/project-root.js';
import type { RunRecord } from '../harness/report/run-record.js';
import { formatMs } from './stats.js';

/**
 * The soak: matrices/soak.yaml (Debian's redis-server beside stress-ng dirtying memory, every VM
 * event kind chained, QEMU and libvirt, 40 cells) run RUNS times in a row through the CLI, as a
 * user runs it. Goal: 0 `error` cells and 0 events not done over all runs. Prints one line per run
 * and the total, writes reports/soak.json, and exits 1 when the goal is missed.
 *   npm run soak [-- --runs N] [-- --matrix FILE]
 */
interface RunTally {
  run: number;
  dir: string;
  wallMs: number;
  exitCode: number;
  cells: number;
  outcomes: Record<string, number>;
  events: number;
  eventsNotDone: Array<{ cell: string; event: string; outcome: string; why: string }>;
  errors: Array<{ cell: string; reason: string }>;
}

const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const runs = Number(option('runs', '3'));
if (!Number.isInteger(runs) || runs < 1 || runs > 100) {
  process.stderr.write(`soak: --runs must be a whole number from 1 to 100, not ${option('runs', '3')}\n`);
  process.exit(2);
}
const matrix = resolve(option('matrix', join(projectRoot(), 'matrices', 'soak.yaml')));
const reportsRoot = join(projectRoot(), 'reports', 'soak');
mkdirSync(reportsRoot, { recursive: true });

const tallies: RunTally[] = [];
for (let run = 1; run <= runs; run++) {
  const before = new Set(readdirSync(reportsRoot));
  const started = performance.now();
  const child = await execa(process.execPath, [join(projectRoot(), 'bin', 'bothworlds.js'), 'run', matrix, '--reports', reportsRoot, '--plain'], { reject: false, all: true });
  const wallMs = performance.now() - started;
  const fresh = readdirSync(reportsRoot).filter((d) => !before.has(d) && statSync(join(reportsRoot, d)).isDirectory());
  if (fresh.length !== 1) {
    process.stderr.write(`soak: run ${run} wrote no run folder (exit ${child.exitCode}):\n${child.all.slice(-2000)}\n`);
    process.exit(2);
  }
  const dir = join(reportsRoot, fresh[0]!);
  const record = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as RunRecord;
  const tally = tallyRun(run, dir, wallMs, child.exitCode ?? -1, record);
  tallies.push(tally);
  process.stdout.write(`${describeRun(tally)}\n`);
}

const total = {
  runs,
  cells: sum(tallies.map((t) => t.cells)),
  errorCells: sum(tallies.map((t) => t.outcomes.error ?? 0)),
  incompleteCells: sum(tallies.map((t) => t.outcomes.incomplete ?? 0)),
  failedCells: sum(tallies.map((t) => t.outcomes.failed ?? 0)),
  events: sum(tallies.map((t) => t.events)),
  eventsNotDone: sum(tallies.map((t) => t.eventsNotDone.length)),
};
const met = total.errorCells === 0 && total.eventsNotDone === 0;
process.stdout.write(
  `\nsoak: ${total.runs} runs, ${total.cells} cells: ${total.errorCells} error, ${total.incompleteCells} incomplete, ${total.failedCells} failed; ` +
    `${total.events} events, ${total.eventsNotDone} not done — goal (0 error cells, 0 events not done) ${met ? 'met' : 'MISSED'}\n`,
);
for (const tally of tallies) {
  for (const e of tally.errors) process.stdout.write(`  run ${tally.run} error ${e.cell}: ${e.reason}\n`);
  for (const e of tally.eventsNotDone) process.stdout.write(`  run ${tally.run} ${e.cell}: ${e.event} ${e.outcome}: ${e.why}\n`);
}
writeFileSync(join(projectRoot(), 'reports', 'soak.json'), `${JSON.stringify({ at: new Date().toISOString(), matrix, total, runs: tallies }, null, 2)}\n`);
process.stdout.write('written: reports/soak.json\n');
process.exit(met ? 0 : 1);

function tallyRun(run: number, dir: string, wallMs: number, exitCode: number, record: RunRecord): RunTally {
  const outcomes: Record<string, number> = {};
  const eventsNotDone: RunTally['eventsNotDone'] = [];
  const errors: RunTally['errors'] = [];
  let events = 0;
  for (const cell of record.cells) {
    outcomes[cell.outcome] = (outcomes[cell.outcome] ?? 0) + 1;
    if (cell.outcome === 'error') errors.push({ cell: cell.id, reason: cell.reason ?? cell.error?.message ?? '' });
    for (const event of cell.events) {
      events++;
      if (event.outcome !== 'ok') eventsNotDone.push({ cell: cell.id, event: event.label, outcome: event.outcome, why: event.error?.message ?? event.reason ?? '' });
    }
  }
  // Planned cells with no result (a crashed run) count as errors: nothing was shown for them.
  const missing = record.cellIds.filter((id) => !record.cells.some((c) => c.id === id));
  for (const id of missing) errors.push({ cell: id, reason: 'no result recorded' });
  if (missing.length) outcomes.error = (outcomes.error ?? 0) + missing.length;
  return { run, dir, wallMs, exitCode, cells: record.cellIds.length, outcomes, events, eventsNotDone, errors };
}

function describeRun(t: RunTally): string {
  const outcomes = Object.entries(t.outcomes).map(([o, n]) => `${n} ${o}`).join(', ');
  return `soak run ${t.run}: ${t.cells} cells in ${formatMs(t.wallMs)} (exit ${t.exitCode}): ${outcomes}; ${t.events} events, ${t.eventsNotDone.length} not done — ${t.dir}`;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
