import type { AxisValue } from '../model/cell.js';
import type { Expansion } from './expand.js';

/** What `bothworlds list` prints: every cell with its axis values, then every dropped combination and why. */
export function formatExpansion(expansion: Expansion, options: { showDropped?: boolean } = {}): string {
  const lines: string[] = [];
  lines.push(`${expansion.cells.length} cells (of ${expansion.totalCombinations} combinations)`);
  const width = Math.max(4, ...expansion.cells.map((c) => c.id.length));
  for (const cell of expansion.cells) lines.push(`  ${cell.id.padEnd(width)}  ${describe(cell.axes)}${cell.events.length ? `  [${cell.events.map((e) => e.kind).join(', ')}]` : ''}`);
  if ((options.showDropped ?? true) && expansion.dropped.length > 0) {
    lines.push('', `${expansion.dropped.length} dropped:`);
    for (const drop of expansion.dropped) lines.push(`  ${describe(drop.axes)}  ← ${drop.rule}`);
  }
  return `${lines.join('\n')}\n`;
}

function describe(axes: Record<string, AxisValue>): string {
  return Object.entries(axes)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}
