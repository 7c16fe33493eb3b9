import type { CellResult, Series } from '../../model/result.js';
import { esc } from './escape.js';

const WIDTH = 900;
const ROW = 22;

/** Events as bars (requested → acknowledged → observed), heartbeat gaps, and series as small plots, in inline SVG. */
export function renderTimeline(cell: CellResult): string {
  const series: Series[] = [...(cell.series ?? []), ...cell.events.flatMap((e) => e.series ?? [])];
  const end = Math.max(1, cell.durationMs, ...cell.events.map((e) => (e.observedAtMs ?? e.requestedAtMs + e.durationMs)), ...series.flatMap((s) => s.points.map((p) => p[0])));
  const x = (t: number) => 120 + (Math.max(0, t) / end) * (WIDTH - 140);
  const parts: string[] = [];
  cell.events.forEach((event, i) => {
    const y = 10 + i * ROW;
    const finish = event.observedAtMs ?? event.requestedAtMs + event.durationMs;
    const colour = event.outcome === 'ok' ? '#2e9d4f' : event.outcome === 'error' ? '#e08a00' : '#9aa0a6';
    parts.push(`<text x="4" y="${y + 12}">${esc(event.label)}</text>`);
    parts.push(`<rect x="${x(event.requestedAtMs)}" y="${y + 2}" width="${Math.max(2, x(finish) - x(event.requestedAtMs))}" height="12" fill="${colour}" opacity="0.8"><title>${esc(`${event.label}: requested ${event.requestedAtMs.toFixed(0)} ms, acknowledged ${event.acknowledgedAtMs?.toFixed(0) ?? '—'} ms, observed ${event.observedAtMs?.toFixed(0) ?? '—'} ms`)}</title></rect>`);
    if (event.acknowledgedAtMs !== undefined) parts.push(`<line x1="${x(event.acknowledgedAtMs)}" x2="${x(event.acknowledgedAtMs)}" y1="${y}" y2="${y + 16}" stroke="#1f2328" stroke-width="2"/>`);
  });
  let y = 14 + cell.events.length * ROW;
  for (const s of series) {
    if (s.points.length < 2) continue;
    const max = Math.max(...s.points.map((p) => p[1]), 1e-9);
    const path = s.points.map((p) => `${x(p[0]).toFixed(1)},${(y + 40 - (p[1] / max) * 36).toFixed(1)}`).join(' ');
    parts.push(`<text x="4" y="${y + 24}">${esc(s.name)}</text><text x="4" y="${y + 38}" class="muted">max ${esc(max.toFixed(1))} ${esc(s.unit)}</text>`);
    parts.push(`<polyline points="${path}" fill="none" stroke="#6b5bd2" stroke-width="1.5"/>`);
    y += 50;
  }
  parts.push(`<line x1="120" x2="${WIDTH - 20}" y1="${y + 4}" y2="${y + 4}" stroke="#d0d7de"/><text x="120" y="${y + 18}">0</text><text x="${WIDTH - 70}" y="${y + 18}">${(end / 1000).toFixed(1)} s</text>`);
  return `<svg width="${WIDTH}" height="${y + 24}" viewBox="0 0 ${WIDTH} ${y + 24}" role="img" aria-label="timeline">${parts.join('')}</svg>`;
}
