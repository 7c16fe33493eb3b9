import { BothworldsError, describeError } from '../core/errors.js';
import type { TimelineEvent } from '../model/cell.js';
import type { EventRecord } from '../model/result.js';
import type { StartedMachine } from '../machines/machine.js';
import { eventKindOf } from './registry.js';
import type { EventKind } from './kind.js';
import { TriggerMissed, waitForTrigger } from './trigger.js';

/**
 * The first event this machine cannot do, with the backend's reason (the cell is then skipped).
 * Unknown kinds and bad parameters are ConfigErrors, raised here before anything runs.
 */
export function unsupportedEvent(machine: StartedMachine, events: TimelineEvent[]): { event: string; reason: string } | undefined {
  for (const event of events) {
    const kind = eventKindOf(event);
    kind.validate(event.params ?? {});
    if (!machine.controls[kind.facet]) {
      return { event: event.label ?? event.kind, reason: machine.controls.unsupportedReason[kind.facet] ?? `the ${machine.backend} backend cannot ${kind.describe}` };
    }
  }
  return undefined;
}

export interface TimelineOptions {
  machine: StartedMachine;
  events: TimelineEvent[];
  /** performance.now() when the application started: `at` offsets count from here, and `line` triggers match lines from then on. */
  appStartedAt: number;
  signal: AbortSignal;
  onRecord(record: EventRecord): Promise<void>;
  /** How long a `line` trigger may wait before its event is recorded as skipped (default 60 s). */
  triggerTimeoutMs?: number;
  /** Settles when the application ends: events whose trigger has not come by then are skipped. */
  appEnded?: Promise<unknown>;
}

interface Occurrence {
  event: TimelineEvent;
  kind: EventKind;
  label: string;
  /** Resolves at the moment the event should fire (performance.now()), or rejects with TriggerMissed. */
  trigger: Promise<number>;
}

/**
 * Fire the cell's events on their triggers, one at a time in trigger order (two events that change
 * the machine never interleave), and record what each did in the machine's clock. Every event
 * gets a record: ok, error (with the failure's code and text) or skipped (with why it never fired).
 */
export async function runTimeline(options: TimelineOptions): Promise<EventRecord[]> {
  const { machine, signal } = options;
  for (const event of options.events) eventKindOf(event).validate(event.params ?? {});
  const occurrences: Occurrence[] = [];
  for (const event of options.events) {
    const kind = eventKindOf(event);
    const repeats = event.repeat?.count ?? 0;
    for (let k = 0; k <= repeats; k++) {
      const label = `${event.label ?? event.kind}${repeats > 0 ? ` #${k + 1}` : ''}`;
      const trigger = waitForTrigger(
        event.trigger,
        { output: machine.output, appStartedAt: options.appStartedAt, timeoutMs: options.triggerTimeoutMs ?? 60_000, signal, ...(options.appEnded ? { appEnded: options.appEnded } : {}) },
        k * (event.repeat?.everyMs ?? 0),
      );
      trigger.catch(() => undefined);
      occurrences.push({ event, kind, label, trigger });
    }
  }
  const records: EventRecord[] = [];
  const record = async (entry: EventRecord) => {
    records.push(entry);
    await options.onRecord(entry);
  };
  // Events run in the order their triggers fire, each after the one before has finished.
  let lock: Promise<void> = Promise.resolve();
  await Promise.all(
    occurrences.map(async (occurrence) => {
      let firesAt: number;
      try {
        firesAt = await occurrence.trigger;
      } catch (error) {
        await record(skipped(machine, occurrence, error instanceof TriggerMissed ? error.message : describeError(error)));
        return;
      }
      const previous = lock;
      let release!: () => void;
      lock = new Promise((resolve) => (release = resolve));
      await previous;
      try {
        if (signal.aborted) await record(skipped(machine, occurrence, 'the cell was interrupted before the event fired'));
        else await record(await runOne(options, occurrence, Math.max(firesAt, performance.now())));
      } finally {
        release();
      }
    }),
  );
  return records.sort((a, b) => a.requestedAtMs - b.requestedAtMs);
}

function skipped(machine: StartedMachine, occurrence: Occurrence, reason: string): EventRecord {
  return { ...identity(occurrence), outcome: 'skipped', requestedAtMs: performance.now() - machine.origin, durationMs: 0, metrics: {}, reason };
}

/** What names an event in its record: kind, label, and whether it is optional or a suite's. */
function identity(occurrence: Occurrence): Pick<EventRecord, 'kind' | 'label' | 'optional' | 'addedBy'> {
  const { event } = occurrence;
  return { kind: occurrence.kind.kind, label: occurrence.label, ...(event.optional ? { optional: true } : {}), ...(event.addedBy ? { addedBy: event.addedBy } : {}) };
}

async function runOne(options: TimelineOptions, occurrence: Occurrence, requested: number): Promise<EventRecord> {
  const { machine, signal } = options;
  const at = (t: number) => t - machine.origin;
  const base = { ...identity(occurrence), requestedAtMs: at(requested) };
  machine.output.push('harness', `event ${occurrence.label} requested`);
  try {
    const outcome = await occurrence.kind.run({ machine, params: occurrence.event.params ?? {}, signal });
    const finished = performance.now();
    const record: EventRecord = {
      ...base,
      outcome: outcome.error ? 'error' : 'ok',
      ...(outcome.acknowledgedAt ? { acknowledgedAtMs: at(outcome.acknowledgedAt) } : {}),
      ...(outcome.observedAt ? { observedAtMs: at(outcome.observedAt) } : {}),
      durationMs: finished - requested,
      metrics: outcome.metrics,
      ...(outcome.series ? { series: outcome.series } : {}),
      ...(outcome.detail ? { detail: outcome.detail } : {}),
      ...(outcome.error ? { error: { code: outcome.error.code, category: 'infrastructure', message: outcome.error.message } } : {}),
    };
    machine.output.push('harness', `event ${occurrence.label} ${record.outcome} in ${record.durationMs.toFixed(0)} ms${outcome.error ? `: ${outcome.error.message}` : ''}`);
    return record;
  } catch (error) {
    machine.output.push('harness', `event ${occurrence.label} failed: ${describeError(error)}`);
    return {
      ...base,
      outcome: 'error',
      durationMs: performance.now() - requested,
      metrics: {},
      error: {
        code: error instanceof BothworldsError ? error.code : 'EVENT_FAILED',
        category: error instanceof BothworldsError ? error.category : 'infrastructure',
        message: describeError(error),
      },
    };
  }
}
