import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { LineBuffer } from '../machines/line-source.js';
import type { Ack, StartedMachine } from '../machines/machine.js';
import type { TimelineEvent } from '../model/cell.js';
import type { EventRecord } from '../model/result.js';
import { knownEventKinds, validateEvent } from './registry.js';
import { runTimeline, unsupportedEvent } from './timeline.js';

/**
 * The timeline's trigger logic on a stand-in machine whose only control is a clock that notes when
 * it was corrected (the real controls are exercised on real guests in events.test.ts).
 */
function standIn(options: { slowMs?: number; failWith?: Error } = {}) {
  const output = new LineBuffer();
  const calls: Array<{ start: number; end: number }> = [];
  const correct = async (): Promise<Ack> => {
    const start = performance.now();
    await new Promise((resolve) => setTimeout(resolve, options.slowMs ?? 0));
    if (options.failWith) throw options.failWith;
    calls.push({ start, end: performance.now() });
    return { acknowledgedAt: performance.now(), metrics: {} };
  };
  const machine = {
    backend: 'local',
    name: 'stand-in',
    origin: output.origin,
    output,
    controls: { clock: { correct }, unsupportedReason: { cpus: 'vCPU hot-plug needs maxvcpus > vcpus (this cell has 2 of 2)' } },
  } as unknown as StartedMachine;
  return { machine, output, calls };
}

const event = (trigger: TimelineEvent['trigger'], extra: Partial<TimelineEvent> = {}): TimelineEvent => ({ kind: 'clock-correct', trigger, params: {}, ...extra });

function run(machine: StartedMachine, events: TimelineEvent[], extra: { signal?: AbortSignal; appEnded?: Promise<unknown>; triggerTimeoutMs?: number; appStartedAt?: number } = {}) {
  const seen: EventRecord[] = [];
  const records = runTimeline({
    machine,
    events,
    appStartedAt: extra.appStartedAt ?? performance.now(),
    signal: extra.signal ?? new AbortController().signal,
    onRecord: async (r) => void seen.push(r),
    ...(extra.triggerTimeoutMs !== undefined ? { triggerTimeoutMs: extra.triggerTimeoutMs } : {}),
    ...(extra.appEnded ? { appEnded: extra.appEnded } : {}),
  });
  return { records, seen };
}

describe('timeline triggers', () => {
  it('fires `at` events at their offset from the application start, in order', async () => {
    const { machine, calls } = standIn();
    const start = performance.now();
    const { records, seen } = run(machine, [event({ kind: 'at', afterMs: 200 }, { label: 'late' }), event({ kind: 'at', afterMs: 50 }, { label: 'early' })], { appStartedAt: start });
    const done = await records;
    expect(done.map((r) => r.label)).toEqual(['early', 'late']);
    expect(done.every((r) => r.outcome === 'ok')).toBe(true);
    expect(calls[0]!.start - start).toBeGreaterThanOrEqual(49);
    expect(calls[1]!.start - start).toBeGreaterThanOrEqual(199);
    // Timers may fire late on a busy host, never early.
    expect(done[0]!.requestedAtMs).toBeGreaterThanOrEqual(start + 49 - machine.origin);
    expect(done[0]!.requestedAtMs).toBeLessThan(start + 150 - machine.origin);
    expect(seen).toHaveLength(2);
  });

  it('fires a `line` trigger when the line arrives, ignoring other sources and lines from before the app started', async () => {
    const { machine, output, calls } = standIn();
    output.push('app', 'ready now (an old run)');
    const { records } = run(machine, [event({ kind: 'line', pattern: 'ready now', source: 'app' })], { triggerTimeoutMs: 2_000 });
    setTimeout(() => output.push('console', 'ready now'), 30);
    setTimeout(() => output.push('app', 'server ready now'), 100);
    const [record] = await records;
    const line = output.lines.find((l) => l.text === 'server ready now')!;
    expect(record!.outcome).toBe('ok');
    expect(record!.requestedAtMs).toBeGreaterThanOrEqual(line.t);
    expect(calls).toHaveLength(1);
  });

  it('repeats `count` more times, `everyMs` apart, after the trigger', async () => {
    const { machine, calls } = standIn();
    const { records } = run(machine, [event({ kind: 'at', afterMs: 0 }, { repeat: { count: 2, everyMs: 100 } })]);
    const done = await records;
    expect(done.map((r) => r.label)).toEqual(['clock-correct #1', 'clock-correct #2', 'clock-correct #3']);
    // Repeats keep the trigger's schedule (k x everyMs after it), so one that ran late under load
    // does not push the rest later: each starts no earlier than its own slot.
    expect(calls[1]!.start - calls[0]!.start).toBeGreaterThanOrEqual(95);
    expect(calls[2]!.start - calls[0]!.start).toBeGreaterThanOrEqual(195);
  });

  it('never interleaves two events: the second waits for the first to finish', async () => {
    const { machine, calls } = standIn({ slowMs: 150 });
    const done = await run(machine, [event({ kind: 'at', afterMs: 0 }), event({ kind: 'at', afterMs: 10 })]).records;
    expect(done).toHaveLength(2);
    expect(calls[1]!.start).toBeGreaterThanOrEqual(calls[0]!.end);
  });

  it('skips an event whose line never comes, and one still pending when the application ends', async () => {
    const { machine } = standIn();
    const timedOut = await run(machine, [event({ kind: 'line', pattern: 'never printed', source: 'app' })], { triggerTimeoutMs: 100 }).records;
    expect(timedOut[0]!.outcome).toBe('skipped');
    expect(timedOut[0]!.reason).toMatch(/never came: no app line matching \/never printed\/ within 100 ms/);
    const started = performance.now();
    const ended = new Promise((resolve) => setTimeout(resolve, 80));
    const early = await run(machine, [event({ kind: 'at', afterMs: 5_000 }), event({ kind: 'line', pattern: 'x', source: 'console' })], { appEnded: ended }).records;
    expect(early.map((r) => r.outcome)).toEqual(['skipped', 'skipped']);
    expect(early[0]!.reason).toMatch(/application ended before its trigger/);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('stops promptly on abort, with a record for every event', async () => {
    const { machine, calls } = standIn();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = performance.now();
    const done = await run(machine, [event({ kind: 'at', afterMs: 10_000 }), event({ kind: 'line', pattern: 'x', source: 'app' })], { signal: controller.signal }).records;
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(done.map((r) => r.reason)).toEqual(['the cell was interrupted before the event fired', 'the cell was interrupted before the event fired']);
    expect(calls).toHaveLength(0);
  });

  it('records a failing event as an error carrying its code and text', async () => {
    const { machine } = standIn({ failWith: new ConfigError('X_BROKEN', 'the clock refused: GenericError Invalid parameter') });
    const [record] = await run(machine, [event({ kind: 'at', afterMs: 0 })]).records;
    expect(record!.outcome).toBe('error');
    expect(record!.error).toMatchObject({ code: 'X_BROKEN', category: 'config' });
    expect(record!.error!.message).toContain('GenericError Invalid parameter');
  });
});

describe('event registry', () => {
  it('knows every kind the matrix may name', () => {
    expect(knownEventKinds).toEqual(
      expect.arrayContaining(['cpu-plug', 'cpu-unplug', 'mem-plug', 'mem-unplug', 'balloon', 'pause', 'clock-correct', 'migrate', 'cpu-offline', 'cpu-online', 'memory-pressure', 'container-cpus', 'container-memory']),
    );
  });

  it('validates parameters into typed values, naming a bad or unknown parameter', () => {
    expect(validateEvent({ kind: 'migrate', params: { 'max-bandwidth': '1M', timeout: '3s', transport: 'tcp' } })).toMatchObject({ maxBandwidthBytesPerSec: 1024 * 1024, timeoutMs: 3_000, transport: 'tcp' });
    expect(validateEvent({ kind: 'balloon', params: { target: '50%' } })).toMatchObject({ target: { fraction: 0.5 } });
    expect(validateEvent({ kind: 'cpu-plug', params: {} })).toEqual({ count: 1 });
    expect(() => validateEvent({ kind: 'pause', params: { duration: 'soon' } })).toThrow(/parameter duration="soon" must be a duration/);
    expect(() => validateEvent({ kind: 'cpu-plug', params: { count: 0 } })).toThrow(/count=0 must be a whole number from 1 to 4096/);
    expect(() => validateEvent({ kind: 'mem-plug', params: { sise: '128M' } })).toThrow(/unknown parameter "sise" \(did you mean "size"\?\); it takes size/);
    expect(() => validateEvent({ kind: 'migrate', params: { transport: 'rdma' } })).toThrow(ConfigError);
    expect(() => validateEvent({ kind: 'teleport', params: {} })).toThrow(/unknown event kind "teleport"/);
  });

  it('names the first event the machine cannot do, with its reason; bad events are config errors', () => {
    const { machine } = standIn();
    expect(unsupportedEvent(machine, [event({ kind: 'at', afterMs: 0 }), { kind: 'cpu-plug', trigger: { kind: 'at', afterMs: 0 }, params: {} }])).toEqual({
      event: 'cpu-plug',
      reason: 'vCPU hot-plug needs maxvcpus > vcpus (this cell has 2 of 2)',
    });
    expect(unsupportedEvent(machine, [event({ kind: 'at', afterMs: 0 })])).toBeUndefined();
    expect(() => unsupportedEvent(machine, [{ kind: 'pause', trigger: { kind: 'at', afterMs: 0 }, params: { duration: -1 } }])).toThrow(ConfigError);
  });
});
