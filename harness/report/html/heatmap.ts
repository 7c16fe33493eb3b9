import type { AxisValue } from '../../model/cell.js';
import type { CellSummary } from '../cell-summary.js';
import { metricValue, migrationDowntime, migrationDowntimeLabel } from '../summary.js';
import { cellFile, esc } from './escape.js';

const SYMBOL: Record<string, string> = { passed: '✓', failed: '✗', error: '!', incomplete: '◐', skipped: '–', interrupted: '‖' };
const MISSING = '—';
const COMPACT_ABOVE = 200;

/** Pick the two axes with the most distinct values for columns and rows; the others group rows. */
export function chooseAxes(cells: readonly CellSummary[]): { column?: string; row?: string; groups: string[] } {
  const distinct = new Map<string, Set<string>>();
  // for...in, not Object.entries: no pair arrays per axis of each of 10,000 cells.
  for (const cell of cells) for (const k in cell.axes) (distinct.get(k) ?? distinct.set(k, new Set()).get(k)!).add(String(cell.axes[k]));
  const varying = [...distinct.entries()].filter(([, values]) => values.size > 1).sort((a, b) => b[1].size - a[1].size || a[0].localeCompare(b[0])).map(([k]) => k);
  const [column, row, ...groups] = varying;
  return { ...(column ? { column } : {}), ...(row ? { row } : {}), groups };
}

/** What hovering a cell shows: outcome, why, timings, and what each event did. */
function tooltip(cell: CellSummary): string {
  const parts = [cell.id, `outcome: ${cell.outcome}`];
  if (cell.reason) parts.push(`why: ${cell.reason}`);
  for (const key of ['boot_ms', 'restore_ms', 'app_ready_ms', 'app_ms', 'cell_ms']) if (cell.metrics[key]) parts.push(`${key.replace(/_ms$/, '').replace(/_/g, ' ')}: ${metricValue(cell.metrics[key])}`);
  for (const event of cell.events) {
    const seen = event.observedAtMs !== undefined ? `, seen after ${(event.observedAtMs - event.requestedAtMs).toFixed(0)} ms` : '';
    parts.push(`${event.label}: ${event.outcome}${seen}`);
  }
  const downtime = migrationDowntime(cell);
  if (downtime) parts.push(`${migrationDowntimeLabel([cell])}: ${downtime}`);
  if (cell.attempts.length > 1) parts.push(`attempts: ${cell.attempts.map((a) => a.outcome).join(' → ')}`);
  return parts.join('\n');
}

/** The one number worth reading inside a passed cell; the outcome word otherwise. */
function caption(cell: CellSummary): string {
  if (cell.outcome !== 'passed') return cell.outcome;
  return metricValue(cell.metrics.app_ms ?? cell.metrics.cell_ms) || 'passed';
}

function axisValue(axes: Record<string, AxisValue>, axis: string | undefined): string {
  return axis ? String(axes[axis] ?? MISSING) : '';
}

/**
 * The matrix as a heatmap: colour by outcome, the outcome (or app time) written in the cell so it
 * reads without colour, timings on hover, click for the cell's page. Row groups without any
 * cell are left out, so a sparse matrix (pairwise, include/exclude) stays compact.
 */
export function renderHeatmap(cells: readonly CellSummary[]): string {
  return [...heatmapChunks(cells)].join('');
}

/**
 * The heatmap a row at a time: 10,000 cells are ~1.7 MB of HTML, written to index.html in
 * batches instead of being joined into one string (and copied again into the page around it).
 */
export function* heatmapChunks(cells: readonly CellSummary[]): Generator<string> {
  const { column, row, groups } = chooseAxes(cells);
  const groupKey = (axes: Record<string, AxisValue>): string => groups.map((g) => `${g}=${axes[g] ?? MISSING}`).join(' · ');
  // Group → row → column → cell, rows in the order first seen: no key string per cell to find it by.
  const grid = new Map<string, Map<string, Map<string, CellSummary>>>();
  const columnSet = new Set<string>();
  for (const cell of cells) {
    const group = groupKey(cell.axes);
    const r = axisValue(cell.axes, row);
    const c = axisValue(cell.axes, column);
    columnSet.add(c);
    const rows = grid.get(group) ?? grid.set(group, new Map()).get(group)!;
    (rows.get(r) ?? rows.set(r, new Map()).get(r)!).set(c, cell);
  }
  const columns = [...columnSet];
  const corner = `${esc(row ?? '')}${row && column ? ' ╲ ' : ''}${esc(column ?? '')}`;
  const head = `<thead><tr>${groups.length ? `<th>${esc(groups.join(' · '))}</th>` : ''}<th class="corner">${corner}</th>${columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead>`;
  // Past a few hundred cells, captions make the map taller than anyone scrolls: squares only.
  const compact = cells.length > COMPACT_ABOVE || columns.length > 14;
  yield `<div class="scroll"><table class="heat${compact ? ' compact' : ''}">${head}<tbody>\n`;
  let first = true;
  for (const [group, rows] of grid) {
    let i = 0;
    for (const [r, byColumn] of rows) {
      const tds = columns.map((c) => {
        const cell = byColumn.get(c);
        if (!cell) return '<td class="cell empty" title="not in the matrix"></td>';
        const outcome = esc(cell.outcome);
        return `<td class="cell o-${outcome}" title="${esc(tooltip(cell))}"><a href="cells/${esc(cellFile(cell.id))}"><b>${SYMBOL[cell.outcome] ?? '?'}</b><small>${esc(caption(cell))}</small></a></td>`;
      });
      const groupCell = groups.length && i++ === 0 ? `<th rowspan="${rows.size}" class="group">${esc(group)}</th>` : '';
      yield `${first ? '' : '\n'}<tr>${groupCell}<th>${esc(r)}</th>${tds.join('')}</tr>`;
      first = false;
    }
  }
  yield '</tbody></table></div>';
}
