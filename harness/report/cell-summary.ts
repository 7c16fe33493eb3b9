import type { Metrics } from '../model/metrics.js';
import type { Outcome } from '../model/outcome.js';
import type { IsaPrediction } from '../model/isa.js';
import type { CellResult, EventRecord, RepeatSummary } from '../model/result.js';

/**
 * What a run keeps of a finished cell: what the exit code, progress, the heat map, summary.md, the
 * index's problem, repeat and CPU-model tables and GitHub annotations read. A structural subset of
 * CellResult (a whole result is a summary too), without the log, suites, series, facts and
 * artifacts that make a result kilobytes: those are read back from results.jsonl, a cell at a time.
 */
export interface CellSummary extends Pick<CellResult, 'id' | 'axes' | 'backend' | 'outcome' | 'reason' | 'error' | 'metrics' | 'accel' | 'quarantine'> {
  attempts: ReadonlyArray<{ outcome: Outcome }>;
  /** Timings for the heat map's tooltip; only a migration's downtime metrics are kept. */
  events: ReadonlyArray<Pick<EventRecord, 'kind' | 'label' | 'outcome' | 'requestedAtMs' | 'observedAtMs' | 'metrics'>>;
  /** Without the runs (a cell page shows those, from the whole result). */
  repeats?: Omit<RepeatSummary, 'runs'>;
  isa?: Pick<IsaPrediction, 'needs' | 'needsText' | 'cpu' | 'lacking'>;
}

const DOWNTIME = /^downtime_/;

export function summariseCell(cell: CellResult): CellSummary {
  const events = cell.events.map((e) => ({
    kind: e.kind,
    label: e.label,
    outcome: e.outcome,
    requestedAtMs: e.requestedAtMs,
    ...(e.observedAtMs !== undefined ? { observedAtMs: e.observedAtMs } : {}),
    metrics: e.kind === 'migrate' ? Object.fromEntries(Object.entries(e.metrics).filter(([k]) => DOWNTIME.test(k))) : NO_METRICS,
  }));
  const { runs: _, ...repeats } = cell.repeats ?? { runs: [] };
  return {
    id: cell.id,
    axes: cell.axes,
    backend: cell.backend,
    outcome: cell.outcome,
    ...(cell.reason !== undefined ? { reason: cell.reason } : {}),
    ...(cell.error ? { error: cell.error } : {}),
    attempts: cell.attempts.length === 1 && cell.attempts[0]!.outcome === cell.outcome ? sameAttempt(cell.outcome) : cell.attempts.map((a) => ({ outcome: a.outcome })),
    metrics: cell.metrics,
    ...(cell.accel ? { accel: cell.accel } : {}),
    ...(cell.quarantine ? { quarantine: cell.quarantine } : {}),
    events: events.length ? events : NO_EVENTS,
    ...(cell.repeats ? { repeats: repeats as Omit<RepeatSummary, 'runs'> } : {}),
    ...(cell.isa
      ? {
          isa: {
            needs: cell.isa.needs,
            ...(cell.isa.needsText !== undefined ? { needsText: cell.isa.needsText } : {}),
            ...(cell.isa.cpu !== undefined ? { cpu: cell.isa.cpu } : {}),
            lacking: cell.isa.lacking,
          },
        }
      : {}),
  };
}

// Shared, frozen: most cells have no events and one attempt with the cell's own outcome.
const NO_METRICS: Metrics = Object.freeze({}) as Metrics;
const NO_EVENTS: CellSummary['events'] = Object.freeze([]);
const SAME_ATTEMPT = new Map<Outcome, ReadonlyArray<{ outcome: Outcome }>>();
function sameAttempt(outcome: Outcome): ReadonlyArray<{ outcome: Outcome }> {
  let shared = SAME_ATTEMPT.get(outcome);
  if (!shared) SAME_ATTEMPT.set(outcome, (shared = Object.freeze([Object.freeze({ outcome })])));
  return shared;
}
