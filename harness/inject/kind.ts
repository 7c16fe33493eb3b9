import type { Metrics } from '../model/metrics.js';
import type { Series } from '../model/result.js';
import type { MachineControls, StartedMachine } from '../machines/machine.js';

export type Facet = Exclude<keyof MachineControls, 'unsupportedReason'>;

export interface EventContext {
  machine: StartedMachine;
  params: Record<string, unknown>;
  signal: AbortSignal;
}

/** What an event did; times are performance.now() values, turned into cell times by the timeline. */
export interface EventOutcome {
  acknowledgedAt?: number;
  /** When the guest (or host) was seen to reflect the change. */
  observedAt?: number;
  metrics: Metrics;
  series?: Series[];
  detail?: Record<string, unknown>;
  /** An outcome the event reports as an error without throwing (e.g. a migration that did not converge). */
  error?: { code: string; message: string };
}

/** One kind of mid-test event; one file per kind under harness/inject/. */
export interface EventKind {
  kind: string;
  /** The machine control the event needs; absent → the cell is skipped with the facet's reason. */
  facet: Facet;
  describe: string;
  run(context: EventContext): Promise<EventOutcome>;
}
