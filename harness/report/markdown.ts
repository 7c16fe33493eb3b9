import type { RunInfo } from './run-record.js';
import type { CellSummary } from './cell-summary.js';
import { qualificationLines } from './qualification-text.js';
import { appNeeds, EVIDENCE_LABEL, modelBreaks } from './isa-summary.js';
import { OUTCOMES, countOutcomes, metricValue, migrationDowntime, migrationDowntimeLabel, notRun } from './summary.js';
import { interval, percentiles, quarantineNote, repeatRows } from './repeat-summary.js';

/** Rows per table; beyond this a step summary becomes unreadable (and GitHub caps it at 1 MiB). */
const MAX_TIMING_ROWS = 100;
const MAX_PROBLEM_ROWS = 200;

/** A Markdown summary for CI step summaries ($GITHUB_STEP_SUMMARY): totals, what did not pass and why, key timings. */
export interface MarkdownOptions {
  /** The HTML report, relative to summary.md (the run folder): linked at the top. */
  htmlReport?: string;
  /** Where a CI keeps the run's artifacts (the GitHub Actions run page), linked beside it. */
  runUrl?: string;
}

/** The GitHub Actions run page, whose artifacts hold the HTML report, when running there. */
export function ciRunLink(env: NodeJS.ProcessEnv): { runUrl?: string } {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: run } = env;
  return server && repo && run && /^\d+$/.test(run) ? { runUrl: `${server}/${repo}/actions/runs/${run}` } : {};
}

export function buildMarkdown(record: RunInfo & { cells: readonly CellSummary[] }, options: MarkdownOptions = {}): string {
  const counts = countOutcomes(record.cells);
  const missing = notRun(record);
  const lines = [`## bothworlds: ${text(record.matrix.name)}${record.shard ? ` (shard ${record.shard.index}/${record.shard.total})` : ''}`, ''];
  if (record.qualification) lines.push(...qualificationLines(record.qualification).map((line, i) => (i === 0 ? `**${text(line)}**` : text(line))), '');
  const totals = OUTCOMES.filter((o) => counts[o] > 0).map((o) => `**${counts[o]} ${o}**`);
  if (missing.length) totals.push(`**${missing.length} not run**`);
  lines.push(`${record.cells.length} of ${record.cellIds.length} planned cells — ${totals.join(', ')}${record.interrupted ? ' (run interrupted)' : ''}`, '');
  const e = record.environment;
  const links = [options.htmlReport ? `[HTML report](${encodeURI(options.htmlReport)})` : '', options.runUrl ? `[this run's artifacts](${encodeURI(options.runUrl)}) (the HTML report is in the reports artifact)` : ''].filter(Boolean);
  if (links.length) lines.push(`Full report: ${links.join(' · ')}`, '');
  lines.push(`Host: ${text(e.hostCpuModel)}, ${e.cores} cores; ${text(e.qemuVersion ?? 'no QEMU')}; accelerator: ${e.kvm.usable ? 'KVM' : 'TCG'} (${text(e.kvm.reason)})`, '');

  const notPassed = record.cells.filter((c) => c.outcome !== 'passed');
  if (notPassed.length > 0 || missing.length > 0) {
    lines.push('| cell | outcome | reason |', '|---|---|---|');
    const rows = [
      ...notPassed.map((cell) => `| \`${code(cell.id)}\` | ${cell.outcome} | ${text([cell.reason ?? cell.error?.message ?? '', quarantineNote(cell)].filter(Boolean).join(' — '))} |`),
      ...missing.map((id) => `| \`${code(id)}\` | not run | no result recorded |`),
    ];
    lines.push(...rows.slice(0, MAX_PROBLEM_ROWS));
    if (rows.length > MAX_PROBLEM_ROWS) lines.push(`| … ${rows.length - MAX_PROBLEM_ROWS} more in index.html | | |`);
    lines.push('');
  }

  const breaks = modelBreaks(record.cells);
  if (breaks.length > 0) {
    lines.push('### What each CPU model breaks', '', `The application needs ${text(appNeeds(record.cells) ?? 'nothing beyond x86-64')}.`, '', '| CPU model | needed flags it lacks | cells |', '|---|---|---|');
    for (const row of breaks) {
      const flags = row.flags.map((f) => `**${text(f.flag)}** (${f.evidence.map((e) => EVIDENCE_LABEL[e]).join(', ')}: ${text(f.detail[0] ?? '')})`).join('; ');
      lines.push(`| ${text(row.model)} | ${flags || 'nothing'} | ${row.failed} of ${row.cells} failed |`);
    }
    lines.push('');
  }

  const repeated = repeatRows(record.cells);
  if (repeated.length > 0) {
    lines.push('### Repeated cells', '', '| cell | outcome | passed | metric | p50 / p95 / p99 | mean, 95% CI |', '|---|---|---|---|---|---|');
    for (const row of repeated.slice(0, MAX_TIMING_ROWS)) {
      const head = `| \`${code(row.cell.id)}\` | ${row.cell.outcome} | ${row.rate} |`;
      if (row.metrics.length === 0) lines.push(`${head} | | |`);
      row.metrics.forEach((m, i) => lines.push(`${i === 0 ? head : '| | | |'} ${text(m.name)} | ${percentiles(m.stats)} | ${metricValue({ value: m.stats.mean, unit: m.stats.unit })} ${interval(m.stats)} (n=${m.stats.n}) |`));
    }
    lines.push('');
  }

  const timed = record.cells.filter((c) => c.outcome !== 'skipped');
  if (timed.length > 0) {
    lines.push(`| cell | outcome | boot | app | ${migrationDowntimeLabel(timed)} |`, '|---|---|---|---|---|');
    for (const cell of timed.slice(0, MAX_TIMING_ROWS)) {
      lines.push(`| \`${code(cell.id)}\` | ${cell.outcome} | ${metricValue(cell.metrics.boot_ms ?? cell.metrics.restore_ms)} | ${metricValue(cell.metrics.app_ms)} | ${migrationDowntime(cell)} |`);
    }
    if (timed.length > MAX_TIMING_ROWS) lines.push(`| … ${timed.length - MAX_TIMING_ROWS} more in index.html | | | | |`);
  }
  return `${lines.join('\n')}\n`;
}

/** Text from a guest or a matrix inside a table cell: no row breaks, no markup GitHub would render. */
function text(value: string): string {
  return value.replace(/[\\|`*_[\]<>]/g, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : `\\${c}`)).replace(/\r?\n/g, ' ');
}

function code(value: string): string {
  return value.replace(/`/g, "'").replace(/\|/g, '\\|');
}
