import type { RunInfo, RunRecord } from '../run-record.js';
import type { CellSummary } from '../cell-summary.js';
import { OUTCOMES, countOutcomes, notRun } from '../summary.js';
import { cellFile, esc } from './escape.js';
import { FlagColumns } from './flags.js';
import { heatmapChunks } from './heatmap.js';
import { environmentLine, environmentTable, pageHead, pageTail } from './layout.js';
import { WorldsTally } from './worlds.js';
import type { Qualification } from '../../model/qualification.js';
import { qualificationLines } from '../qualification-text.js';
import { renderModelBreaks } from './isa.js';
import { renderRepeats } from './repeats.js';
import { quarantineNote } from '../repeat-summary.js';

/** Worst first: what a person came to the report for. */
const ORDER = ['failed', 'flaky', 'error', 'incomplete', 'interrupted', 'skipped'];

export function renderIndex(record: RunRecord): string {
  const tables = { flags: new FlagColumns(), worlds: new WorldsTally() };
  for (const cell of record.cells) {
    tables.flags.add(cell);
    tables.worlds.add(cell);
  }
  return renderIndexOf(record, tables);
}

/** The tables of the index that need more than a cell's summary, gathered while the cells stream past. */
export interface IndexTables {
  flags: FlagColumns;
  worlds: WorldsTally;
}

/** The index from cell summaries and the tables gathered over the whole results. */
export function renderIndexOf(record: RunInfo & { cells: readonly CellSummary[] }, tables: IndexTables): string {
  return [...indexChunks(record, tables)].join('');
}

/**
 * The index in parts, the heatmap and the problems a row at a time: index.html of 10,000 cells is
 * written in batches, never built as one string (each join of it was a multi-MB copy, the peak of
 * a large run's memory). Joined, the parts are the page byte for byte.
 */
export function* indexChunks(record: RunInfo & { cells: readonly CellSummary[] }, tables: IndexTables): Generator<string> {
  const counts = countOutcomes(record.cells);
  const missing = notRun(record);
  const totals = OUTCOMES.filter((o) => counts[o] > 0).map((o) => `<span class="pill o-${o}">${counts[o]} ${o}</span>`);
  if (missing.length) totals.push(`<span class="pill o-notrun">${missing.length} not run</span>`);
  yield pageHead(`bothworlds ${record.matrix.name}`);
  yield `<header><h1>bothworlds · ${esc(record.matrix.name)}</h1>${environmentLine(record)}</header>\n`;
  yield `${record.qualification ? qualificationBanner(record.qualification) : ''}\n`;
  yield `<p class="totals"><b>${record.cells.length}</b> of ${record.cellIds.length} cells: ${totals.join(' ')}${record.interrupted ? ' <span class="pill o-interrupted">run interrupted</span>' : ''}</p>\n`;
  yield '<h2>Matrix</h2><p class="muted">Green passed, red the application failed, orange the lab failed (QEMU, boot, agent), teal incomplete (something asked was not done), grey skipped, purple interrupted. Hover a cell for its timings; click it for its log, checks and timeline.</p>';
  if (record.cells.length) yield* heatmapChunks(record.cells);
  else yield '<p>No cell has a result yet.</p>';
  yield '\n';
  yield* problems(record.cells, missing);
  yield '\n';
  const repeats = renderRepeats(record.cells, {});
  yield `${repeats ? `<h2>Repeated cells</h2><p class="muted">Each cell ran several times: its pass rate, and per metric the 50th/95th/99th percentile and the mean with its 95% confidence interval. A cell that passed in some runs only is flaky.</p>${repeats}` : ''}\n`;
  const breaks = renderModelBreaks(record.cells);
  yield `${breaks ? `<h2>What each CPU model breaks</h2>${breaks}` : ''}\n`;
  yield `<h2>CPU flags side by side</h2>${tables.flags.render(record.environment.hostCpuFlags)}\n`;
  const worlds = tables.worlds.render();
  yield `${worlds ? `<h2>Physical vs virtual</h2><p class="muted">The same application and suites on a physical host and on each virtual cell; differences from the first physical column are marked.</p>${worlds}` : ''}\n`;
  yield `<h2>Environment</h2>${environmentTable(record)}`;
  yield pageTail();
}

/** What did not pass, worst first, then what never ran: a row at a time (a failed large run has thousands). */
function* problems(cells: readonly CellSummary[], missing: readonly string[]): Generator<string> {
  const notPassed = cells.filter((c) => c.outcome !== 'passed').sort((a, b) => ORDER.indexOf(a.outcome) - ORDER.indexOf(b.outcome));
  if (notPassed.length + missing.length === 0) return;
  yield '<h2>What did not pass, and why</h2><table class="problems"><tr><th>cell</th><th>outcome</th><th>reason</th></tr>';
  for (const c of notPassed) {
    yield `<tr><td><i class="dot o-${esc(c.outcome)}"></i><a href="cells/${esc(cellFile(c.id))}">${esc(c.id)}</a></td><td class="t-${esc(c.outcome)}">${esc(c.outcome)}</td><td>${esc(c.reason ?? c.error?.message ?? '')}${c.error ? ` <code>${esc(c.error.code)}</code>` : ''}${c.quarantine ? ` <span class="muted">(${esc(quarantineNote(c))})</span>` : ''}</td></tr>`;
  }
  for (const id of missing) yield `<tr><td><i class="dot o-notrun"></i>${esc(id)}</td><td class="muted">not run</td><td class="muted">planned, but no result was recorded (interrupted run or missing shard)</td></tr>`;
  yield '</table>';
}

/** The policy's verdict above everything else, every reason listed. */
function qualificationBanner(q: Qualification): string {
  const [head, ...rest] = qualificationLines(q);
  const items = rest.map((line) => `<li>${esc(line.replace(/^- /, ''))}</li>`).join('');
  return `<section class="banner ${q.verdict === 'qualified' ? 'o-passed' : 'o-failed'}" id="qualification"><b>${esc(head)}</b>${items ? `<ul>${items}</ul>` : ''}</section>`;
}
