import type { CellResult, EventRecord, Series } from '../../model/result.js';
import { metricValue } from '../summary.js';
import { esc } from './escape.js';
import { cellHeartbeatGaps } from './heartbeat-gaps.js';

const WIDTH = 1000;
const LEFT = 150;
const RIGHT = 30;
const ROW = 24;
const PLOT = 44;

const EVENT_COLOUR: Record<EventRecord['outcome'], string> = { ok: '#2e9d4f', error: '#e08a00', skipped: '#9aa0a6' };

/**
 * The cell's timeline in inline SVG: each event as a bar from requested to acknowledged (light)
 * and on to observed in the guest (dark), heartbeat gaps as red bands across everything, and every
 * series (throttle %, dirty rate…) as a small line plot on the same time axis.
 */
export function renderTimeline(cell: CellResult): string {
  const all: Array<{ owner: string; s: Series }> = [
    ...(cell.series ?? []).map((s) => ({ owner: '', s })),
    ...cell.events.flatMap((e, i) => (e.series ?? []).map((s) => ({ owner: `${i + 1}. ${e.label}`, s }))),
  ].filter(({ s }) => s.points.length >= 2);
  // A flat line (no throttling, no dirtying) says nothing a plot can show: name it, draw the rest.
  const constant = (s: Series) => s.points.every((p) => p[1] === s.points[0]![1]);
  const series = all.filter(({ s }) => !constant(s));
  const flat = all.filter(({ s }) => constant(s));
  const gaps = cellHeartbeatGaps(cell.log, cell.events);
  if (cell.events.length === 0 && all.length === 0 && gaps.length === 0) return '';
  const end = Math.max(1, cell.durationMs, ...cell.events.map(finishOf), ...series.flatMap(({ s }) => s.points.map((p) => p[0])), ...gaps.map((g) => g.toMs));
  const x = (t: number) => LEFT + (Math.min(Math.max(0, t), end) / end) * (WIDTH - LEFT - RIGHT);
  const parts: string[] = [];
  let y = 8;

  for (const [index, event] of cell.events.entries()) {
    const colour = EVENT_COLOUR[event.outcome] ?? '#9aa0a6';
    const ack = event.acknowledgedAtMs ?? event.requestedAtMs;
    const finish = finishOf(event);
    const title = `${index + 1}. ${event.label} (${event.outcome}): requested ${ms(event.requestedAtMs)}, acknowledged ${event.acknowledgedAtMs === undefined ? '—' : ms(event.acknowledgedAtMs)}, observed ${event.observedAtMs === undefined ? '—' : ms(event.observedAtMs)}${event.error ? ` — ${event.error.message}` : event.reason ? ` — ${event.reason}` : ''}`;
    parts.push(`<g><title>${esc(title)}</title><text x="4" y="${y + 13}">${esc(clip(`${index + 1}. ${event.label}`, 24))}</text>`);
    parts.push(`<rect x="${x(event.requestedAtMs).toFixed(1)}" y="${y + 3}" width="${Math.max(2, x(ack) - x(event.requestedAtMs)).toFixed(1)}" height="12" fill="${colour}" opacity="0.35"/>`);
    parts.push(`<rect x="${x(ack).toFixed(1)}" y="${y + 3}" width="${Math.max(2, x(finish) - x(ack)).toFixed(1)}" height="12" fill="${colour}"/>`);
    parts.push(`<text x="${(x(finish) + 4).toFixed(1)}" y="${y + 13}" class="note">${esc(ms(finish - event.requestedAtMs))}</text></g>`);
    y += ROW;
  }

  for (const { owner, s } of series) {
    const values = s.points.map((p) => p[1]);
    const max = Math.max(...values);
    const min = Math.min(0, ...values);
    const scale = (v: number) => y + PLOT - 4 - ((v - min) / Math.max(max - min, 1e-9)) * (PLOT - 10);
    const path = s.points.map((p) => `${x(p[0]).toFixed(1)},${scale(p[1]).toFixed(1)}`).join(' ');
    const peak = metricValue({ value: max, unit: (s.unit as never) ?? 'count' }) || `${max} ${s.unit}`;
    parts.push(`<g><title>${esc(`${owner ? `${owner} · ` : ''}${s.name}: ${s.points.length} samples, max ${peak}`)}</title>`);
    parts.push(`<text x="4" y="${y + 12}">${esc(clip(s.name, 22))}</text>${owner ? `<text x="4" y="${y + 25}" class="note">${esc(clip(owner, 24))}</text>` : ''}<text x="4" y="${y + (owner ? 38 : 26)}" class="note">max ${esc(peak)}</text>`);
    parts.push(`<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${y + PLOT - 4}" y2="${y + PLOT - 4}" stroke="#eaeef2"/>`);
    parts.push(`<polyline points="${path}" fill="none" stroke="#6b5bd2" stroke-width="1.5"/></g>`);
    y += PLOT + 4;
  }

  const top = 2;
  const bands = gaps.map(
    (g) =>
      `<rect class="gap" x="${x(g.fromMs).toFixed(1)}" y="${top}" width="${Math.max(2, x(g.toMs) - x(g.fromMs)).toFixed(1)}" height="${y - top}" fill="#d23a3a" opacity="0.18"><title>${esc(g.source === 'heartbeats' ? `heartbeat gap: ${ms(g.toMs - g.fromMs)} without a beat (${ms(g.fromMs)} → ${ms(g.toMs)})` : `heartbeat gap: ${ms(g.toMs - g.fromMs)} without a beat, ending at the switch-over (${ms(g.toMs)})`)}</title></rect>`,
  );
  const ticks = axisTicks(end).map((t) => `<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${y + 2}" y2="${y + 7}" stroke="#8c959f"/><text x="${x(t).toFixed(1)}" y="${y + 20}" text-anchor="middle" class="note">${esc(seconds(t))}</text>`);
  parts.push(`<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${y + 2}" y2="${y + 2}" stroke="#8c959f"/>${ticks.join('')}`);
  const height = y + 28;
  const legend = `<p class="legend"><span class="sw" style="background:#2e9d4f;opacity:.35"></span>requested → acknowledged <span class="sw" style="background:#2e9d4f"></span>acknowledged → seen in the guest${gaps.length ? ` <span class="sw" style="background:#d23a3a;opacity:.3"></span>heartbeat gap (${gaps.map((g) => esc(ms(g.toMs - g.fromMs))).join(', ')})` : ''}${flat.length ? `<br>constant, not plotted: ${flat.map(({ owner, s }) => esc(`${s.name} ${s.points[0]![1]} ${s.unit}${owner ? ` (${owner})` : ''}`)).join(', ')}` : ''}</p>`;
  return `${legend}<svg class="timeline" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="timeline of ${esc(cell.id)}">${bands.join('')}${parts.join('')}</svg>`;
}

function finishOf(event: EventRecord): number {
  return event.observedAtMs ?? event.acknowledgedAtMs ?? event.requestedAtMs + event.durationMs;
}

/** About six round ticks over [0, end]. */
function axisTicks(end: number): number[] {
  const raw = end / 6;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = 0; t <= end + 1e-9; t += step) ticks.push(t);
  return ticks;
}

function ms(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(0)} ms`;
}

function seconds(value: number): string {
  return value === 0 ? '0' : value >= 1000 ? `${+(value / 1000).toFixed(2)} s` : `${+value.toFixed(0)} ms`;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
