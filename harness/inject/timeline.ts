import { setTimeout as sleep } from 'node:timers/promises';
import { BothworldsError, ConfigError, DeadlineError, describeError } from '../core/errors.js';
import type { TimelineEvent } from '../model/cell.js';
import type { EventRecord } from '../model/result.js';
import type { StartedMachine } from '../machines/machine.js';
import { eventKinds } from './registry.js';
import type { EventKind } from './kind.js';

function kindOf(event: TimelineEvent): EventKind {
  const kind = eventKinds.get(event.kind);
  if (!kind) throw new ConfigError('EVENT_UNKNOWN', `unknown event kind "${event.kind}"; known: ${[...eventKinds.keys()].join(', ')}`);
  return kind;
}

/** The first event this machine cannot do, with the backend's reason (the cell is then skipped). */
export function unsupportedEvent(machine: StartedMachine, events: TimelineEvent[]): { event: string; reason: string } | undefined {
  for (const event of events) {
    const kind = kindOf(event);
    if (!machine.controls[kind.facet]) {
      return { event: event.label ?? event.kind, reason: machine.controls.unsupportedReason[kind.facet] ?? `the ${machine.backend} backend cannot ${kind.describe}` };
    }
  }
  return undefined;
}

export interface TimelineOptions {
  machine: StartedMachine;
  events: TimelineEvent[];
  /** performance.now() when the application started: `at` offsets count from here. */
  appStartedAt: number;
  signal: AbortSignal;
  onRecord(record: EventRecord): Promise<void>;
  /** How long a `line` trigger may wait before its event is recorded as skipped (default 60 s). */
  triggerTimeoutMs?: number;
}

interface Occurrence {
  event: TimelineEvent;
  kind: EventKind;
  label: string;
  /** Resolves at the moment the event should fire (performance.now()), or rejects with why it never will. */
  trigger: Promise<number>;
}

/**
 * Fire the cell's events on their triggers, one at a time in trigger order (two events that change
 * the machine never interleave), and record what each did in the machine's clock.
 */
export async function runTimeline(options: TimelineOptions): Promise<EventRecord[]> {
  const { machine, signal } = options;
  const at = (t: number) => t - machine.origin;
  const triggerTimeout = options.triggerTimeoutMs ?? 60_000;
  const occurrences: Occurrence[] = [];
  for (const event of options.events) {
    const kind = kindOf(event);
    const repeats = event.repeat?.count ?? 0;
    const first: Promise<number> =
      event.trigger.kind === 'at'
        ? waitUntil(options.appStartedAt + event.trigger.afterMs, signal)
        : machine.output.waitForLine(new RegExp(event.trigger.pattern), triggerTimeout, event.trigger.source).then((line) => line.t + machine.origin);
    first.catch(() => undefined);
    for (let k = 0; k <= repeats; k++) {
      const delay = k * (event.repeat?.everyMs ?? 0);
      const label = `${event.label ?? event.kind}${repeats > 0 ? ` #${k + 1}` : ''}`;
      const trigger = first.then((t) => waitUntil(t + delay, signal));
      trigger.catch(() => undefined);
      occurrences.push({ event, kind, label, trigger });
    }
  }
  const records: EventRecord[] = [];
  let lock: Promise<void> = Promise.resolve();
  await Promise.all(
    occurrences.map(async (occurrence) => {
      let firesAt: number;
      try {
        firesAt = await occurrence.trigger;
      } catch (error) {
        const reason =
          error instanceof DeadlineError
            ? `its trigger never came: no line matching /${occurrence.event.trigger.kind === 'line' ? occurrence.event.trigger.pattern : ''}/ within ${triggerTimeout} ms`
            : signal.aborted
              ? 'the cell was interrupted before the event fired'
              : describeError(error);
        const record: EventRecord = { kind: occurrence.kind.kind, label: occurrence.label, outcome: 'skipped', requestedAtMs: at(performance.now()), durationMs: 0, metrics: {}, reason };
        records.push(record);
        await options.onRecord(record);
        return;
      }
      // Serialise: wait for the event before, then run.
      const previous = lock;
      let release!: () => void;
      lock = new Promise((resolve) => (release = resolve));
      await previous;
      try {
        if (signal.aborted) return;
        const record = await runOne(options, occurrence, Math.max(firesAt, performance.now()));
        records.push(record);
        await options.onRecord(record);
      } finally {
        release();
      }
    }),
  );
  return records.sort((a, b) => a.requestedAtMs - b.requestedAtMs);
}

async function runOne(options: TimelineOptions, occurrence: Occurrence, requested: number): Promise<EventRecord> {
  const { machine, signal } = options;
  const at = (t: number) => t - machine.origin;
  const base = { kind: occurrence.kind.kind, label: occurrence.label, requestedAtMs: at(requested) };
  machine.output.push('harness', `event ${occurrence.label} requested`);
  try {
    const outcome = await occurrence.kind.run({ machine, params: occurrence.event.params, signal });
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
    machine.output.push('harness', `event ${occurrence.label} ${record.outcome} in ${record.durationMs.toFixed(0)} ms`);
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

async function waitUntil(when: number, signal: AbortSignal): Promise<number> {
  const delay = when - performance.now();
  if (delay > 0) await sleep(delay, undefined, { signal });
  return when;
}
