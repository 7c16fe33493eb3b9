import type { Cell, TimelineEvent } from '../../harness/model/cell.js';

/** An event a suite schedules: when the app prints its ready line, else one second after it started. */
export function afterReady(cell: Cell, kind: string, params: Record<string, unknown>, label?: string): TimelineEvent {
  const base = { kind, params, ...(label ? { label } : {}) };
  if (cell.app.readyPattern) return { ...base, trigger: { kind: 'line', pattern: cell.app.readyPattern, source: 'app' } };
  return { ...base, trigger: { kind: 'at', afterMs: 1_000 } };
}

/** An event `afterMs` after the application started. */
export function afterStart(kind: string, params: Record<string, unknown>, afterMs: number, label?: string): TimelineEvent {
  return { kind, params, trigger: { kind: 'at', afterMs }, ...(label ? { label } : {}) };
}
