import type { RepeatSummary } from '../../model/result.js';
import type { CellSummary } from '../cell-summary.js';
import { interval, percentiles, repeatRows } from '../repeat-summary.js';
import { metricValue } from '../summary.js';
import { cellFile, esc } from './escape.js';

/**
 * Repeated cells: pass rate and, per metric, p50/p95/p99 and the mean's 95% CI. On the index the
 * key metrics (downtime, latencies, boot) with links; on a cell page every metric and every run.
 */
export function renderRepeats(cells: readonly CellSummary[], options: { all?: boolean; runs?: boolean }): string {
  const rows = repeatRows(cells, options);
  if (rows.length === 0) return '';
  const body = rows.flatMap((row) => {
    const name = options.runs ? esc(row.cell.id) : `<a href="cells/${esc(cellFile(row.cell.id))}">${esc(row.cell.id)}</a>`;
    const head = `<td rowspan="${Math.max(1, row.metrics.length)}"><i class="dot o-${esc(row.cell.outcome)}"></i>${name}</td><td rowspan="${Math.max(1, row.metrics.length)}" class="t-${esc(row.cell.outcome)}">${esc(row.cell.outcome)}</td><td rowspan="${Math.max(1, row.metrics.length)}">${esc(row.rate)}</td>`;
    if (row.metrics.length === 0) return [`<tr>${head}<td colspan="3" class="muted">no metrics</td></tr>`];
    return row.metrics.map(
      (m, i) => `<tr>${i === 0 ? head : ''}<td>${esc(m.name)}</td><td>${esc(percentiles(m.stats))}</td><td>${esc(metricValue({ value: m.stats.mean, unit: m.stats.unit }))} ${esc(interval(m.stats))} <span class="muted">n=${m.stats.n}</span></td></tr>`,
    );
  });
  const table = `<table class="repeats"><tr><th>cell</th><th>outcome</th><th>passed</th><th>metric</th><th>p50 / p95 / p99</th><th>mean, 95% CI</th></tr>${body.join('')}</table>`;
  return table;
}

/** A cell page's table of its runs (above its repeat statistics). */
export function renderRuns(repeats: RepeatSummary): string {
  const runs = repeats.runs.map((r, i) => `<tr><td>run ${i + 1}</td><td class="t-${esc(r.outcome)}">${esc(r.outcome)}</td><td>${esc(metricValue({ value: r.durationMs, unit: 'ms' }))}</td><td>${esc(r.reason ?? '')}</td></tr>`);
  return `<table><tr><th>run</th><th>outcome</th><th>duration</th><th>reason</th></tr>${runs.join('')}</table>`;
}
