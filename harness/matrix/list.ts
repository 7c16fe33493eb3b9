import type { AxisValue, Cell, TimelineEvent } from '../model/cell.js';
import type { Expansion } from './expand.js';

/** What `bothworlds list` prints: every cell with its axis values, then every dropped combination and why. */
export function formatExpansion(
  expansion: Expansion,
  options: { showDropped?: boolean; /** The whole timeline of a cell, suites' events included (default: its scenario). */ timelineOf?: (cell: Cell) => TimelineEvent[] } = {},
): string {
  const timelineOf = options.timelineOf ?? ((cell: Cell) => cell.events);
  const lines: string[] = [];
  lines.push(`${expansion.cells.length} cells (of ${expansion.totalCombinations} combinations)`);
  const width = Math.max(4, ...expansion.cells.map((c) => c.id.length));
  for (const cell of expansion.cells) {
    const events = timelineOf(cell);
    lines.push(`  ${cell.id.padEnd(width)}  ${describe(cell.axes)}${events.length ? `  [${events.map(describeEvent).join(', ')}]` : ''}`);
  }
  if ((options.showDropped ?? true) && expansion.dropped.length > 0) {
    lines.push('', `${expansion.dropped.length} dropped:`);
    for (const drop of expansion.dropped) lines.push(`  ${describe(drop.axes)}  ← ${drop.rule}`);
  }
  return `${lines.join('\n')}\n`;
}

/** "migrate", "balloon (optional)", "migrate (added by suite migration-survival)". */
function describeEvent(event: TimelineEvent): string {
  const tags = [event.addedBy ? `added by suite ${event.addedBy}` : '', event.optional ? 'optional' : ''].filter(Boolean);
  return `${event.kind}${tags.length ? ` (${tags.join(', ')})` : ''}`;
}

function describe(axes: Record<string, AxisValue>): string {
  return Object.entries(axes)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}
