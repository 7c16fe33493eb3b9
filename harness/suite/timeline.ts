import type { Cell, TimelineEvent } from '../model/cell.js';
import type { LoadedSuite } from './session.js';

/**
 * A cell's whole timeline: its scenario's steps, then the steps its suites add (migration-survival
 * adds a migration), each marked with the suite that asked for it so that `list` and every report
 * can say why a cell with `events: none` migrated.
 */
export function cellTimeline(cell: Cell, suites: readonly LoadedSuite[]): TimelineEvent[] {
  const added = suites.flatMap((loaded) => (loaded.suite.events?.(cell, loaded.options) ?? []).map((event) => ({ ...event, addedBy: loaded.suite.name })));
  return [...cell.events, ...added];
}
