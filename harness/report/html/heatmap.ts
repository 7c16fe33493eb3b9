import type { AxisValue } from '../../model/cell.js';
import type { CellResult } from '../../model/result.js';
import { metricValue } from '../summary.js';
import { cellFile, esc } from './escape.js';

const SYMBOL: Record<string, string> = { passed: '✓', failed: '✗', error: '!', skipped: '–', interrupted: '‖' };

/** Pick the two axes with the most distinct values for columns and rows; the others group rows. */
export function chooseAxes(cells: CellResult[]): { column?: string; row?: string; groups: string[] } {
  const distinct = new Map<string, Set<string>>();
  for (const cell of cells) for (const [k, v] of Object.entries(cell.axes)) (distinct.get(k) ?? distinct.set(k, new Set()).get(k)!).add(String(v));
  const varying = [...distinct.entries()].filter(([, values]) => values.size > 1).sort((a, b) => b[1].size - a[1].size || a[0].localeCompare(b[0])).map(([k]) => k);
  const [column, row, ...groups] = varying;
  return { ...(column ? { column } : {}), ...(row ? { row } : {}), groups };
}

function tooltip(cell: CellResult): string {
  const parts = [cell.id, `outcome: ${cell.outcome}`];
  if (cell.reason) parts.push(`why: ${cell.reason}`);
  for (const key of ['boot_ms', 'restore_ms', 'app_ready_ms', 'app_ms', 'cell_ms']) if (cell.metrics[key]) parts.push(`${key.replace(/_ms$/, '')}: ${metricValue(cell.metrics[key])}`);
  for (const event of cell.events) {
    const downtime = event.metrics.downtime_heartbeat_ms ?? event.metrics.downtime_qemu_ms;
    parts.push(`${event.label}: ${event.outcome}${event.observedAtMs !== undefined ? `, seen after ${(event.observedAtMs - event.requestedAtMs).toFixed(0)} ms` : ''}${downtime ? `, downtime ${metricValue(downtime)}` : ''}`);
  }
  return parts.join('\n');
}

/** The matrix as a heatmap: colour by outcome, timings on hover, click for the cell's page. */
export function renderHeatmap(cells: CellResult[]): string {
  const { column, row, groups } = chooseAxes(cells);
  const values = (axis: string | undefined): string[] => (axis ? [...new Set(cells.map((c) => String(c.axes[axis] ?? '—')))] : ['']);
  const groupKey = (axes: Record<string, AxisValue>): string => groups.map((g) => `${g}=${axes[g] ?? '—'}`).join(' ');
  const groupKeys = [...new Set(cells.map((c) => groupKey(c.axes)))];
  const columns = values(column);
  const rows = values(row);
  const find = (group: string, r: string, c: string): CellResult | undefined =>
    cells.find((cell) => groupKey(cell.axes) === group && (!row || String(cell.axes[row] ?? '—') === r) && (!column || String(cell.axes[column] ?? '—') === c));
  const head = `<tr>${groups.length ? `<th>${esc(groups.join(' · '))}</th>` : ''}<th>${esc(row ?? '')}${row && column ? ' \\ ' : ''}${esc(column ?? '')}</th>${columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr>`;
  const body = groupKeys
    .flatMap((group) =>
      rows.map((r, i) => {
        const tds = columns.map((c) => {
          const cell = find(group, r, c);
          if (!cell) return '<td class="cell empty"></td>';
          return `<td class="cell o-${cell.outcome}" title="${esc(tooltip(cell))}"><a href="cells/${esc(cellFile(cell.id))}">${SYMBOL[cell.outcome] ?? '?'}</a></td>`;
        });
        const groupCell = groups.length ? (i === 0 ? `<th rowspan="${rows.length}">${esc(group)}</th>` : '') : '';
        return `<tr>${groupCell}<th>${esc(r)}</th>${tds.join('')}</tr>`;
      }),
    )
    .join('\n');
  return `<table class="heat">${head}\n${body}</table>`;
}
