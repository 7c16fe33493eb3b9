import type { AxisValue, Cell, TimelineEvent } from '../model/cell.js';
import type { Expansion } from './expand.js';
import type { IsaPrediction } from '../model/isa.js';

/** What `bothworlds list` prints: every cell with its axis values, then every dropped combination and why. */
export function formatExpansion(
  expansion: Expansion,
  options: {
    showDropped?: boolean;
    /** The whole timeline of a cell, suites' events included (default: its scenario). */ timelineOf?: (cell: Cell) => TimelineEvent[];
    /** What the app's binaries need from the CPU against each cell's CPU (harness/cpu/predict.ts). */ isaOf?: (cell: Cell) => IsaPrediction | undefined;
  } = {},
): string {
  const timelineOf = options.timelineOf ?? ((cell: Cell) => cell.events);
  const lines: string[] = [];
  lines.push(`${expansion.cells.length} cells (of ${expansion.totalCombinations} combinations)`);
  const width = Math.max(4, ...expansion.cells.map((c) => c.id.length));
  lines.push(...describeAppIsa(expansion.cells, options.isaOf));
  for (const cell of expansion.cells) {
    const events = timelineOf(cell);
    lines.push(`  ${cell.id.padEnd(width)}  ${describe(cell.axes)}${events.length ? `  [${events.map(describeEvent).join(', ')}]` : ''}`);
    const expected = options.isaOf?.(cell)?.expected;
    if (expected) lines.push(`  ${' '.repeat(width)}  ✗ ${expected}`);
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

/** "app needs x86-64-v3 (avx, avx2)", and the files that choose code at run time (never predicted). */
function describeAppIsa(cells: Cell[], isaOf: ((cell: Cell) => IsaPrediction | undefined) | undefined): string[] {
  const first = cells.map((c) => isaOf?.(c)).find((p) => p !== undefined);
  if (!first) return [];
  const lines = [`  app needs ${first.needsText ?? 'nothing beyond x86-64'}`];
  for (const dispatch of first.dispatch) lines.push(`  app dispatches at run time (not predicted): ${dispatch}`);
  return lines;
}
