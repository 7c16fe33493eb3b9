import type { Metrics } from '../model/metrics.js';
import type { Series } from '../model/result.js';
import type { MachineControls, StartedMachine } from '../machines/machine.js';

export type Facet = Exclude<keyof MachineControls, 'unsupportedReason'>;

export interface EventContext<P = Record<string, unknown>> {
  machine: StartedMachine;
  /** The event's `with:` parameters (raw for `run`, as `validate` returned them for `apply`). */
  params: P;
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
export interface EventKind<P = unknown> {
  kind: string;
  /** The machine control the event needs; absent → the cell is skipped with the facet's reason. */
  facet: Facet;
  describe: string;
  /** Typed parameters from the matrix's `with:`, or a ConfigError naming the parameter. */
  validate(params: Record<string, unknown>): P;
  /** Validate the raw parameters, then apply the event. */
  run(context: EventContext): Promise<EventOutcome>;
}

export interface EventDefinition<P> extends Omit<EventKind<P>, 'run'> {
  /** Apply the event with validated parameters. */
  apply(context: EventContext<P>): Promise<EventOutcome>;
}

export function defineEvent<P>(definition: EventDefinition<P>): EventKind<P> {
  const { apply, ...rest } = definition;
  return { ...rest, run: (context) => apply({ ...context, params: definition.validate(context.params) }) };
}
