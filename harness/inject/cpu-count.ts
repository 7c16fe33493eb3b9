import type { Ack, StartedMachine } from '../machines/machine.js';
import { metric } from '../model/metrics.js';
import { defineEvent, type EventKind, type EventOutcome } from './kind.js';
import { EventParams } from './params.js';
import { cpusOf, observe } from './observe.js';

/** QEMU's largest x86 machine (q35 in QEMU 10) has 4096 vCPUs; no step can change more. */
export const MAX_CPU_STEP = 4096;

/** `count` CPUs (default 1, from 1 to 4096). */
export function validateCount(kind: string, params: Record<string, unknown>): { count: number } {
  return { count: new EventParams(kind, params, ['count']).positiveInt('count', 1, MAX_CPU_STEP) };
}

/**
 * Take `count` steps (a vCPU plug, a host CPU online, a container CPU limit raised, or their
 * opposites), then wait until the machine shows the new online CPU count.
 */
export async function changeCpus(machine: StartedMachine, count: number, step: () => Promise<Ack>, signal: AbortSignal): Promise<EventOutcome> {
  const direction = Math.sign(count);
  const before = await cpusOf(machine)();
  const target = before + count;
  let acknowledgedAt = 0;
  const steps: unknown[] = [];
  for (let i = 0; i < Math.abs(count); i++) {
    signal.throwIfAborted();
    const ack = await step();
    acknowledgedAt ||= ack.acknowledgedAt;
    steps.push(ack.detail);
  }
  const seen = await observe(cpusOf(machine), (n) => (direction > 0 ? n >= target : n <= target), `${target} online CPUs`, signal);
  return {
    acknowledgedAt,
    observedAt: seen.at,
    metrics: { cpus_before: metric(before, 'count'), cpus_after: metric(seen.value, 'count') },
    detail: { vcpusBefore: before, vcpusAfter: seen.value, steps },
  };
}

/** An event that adds (+1) or removes (-1) `count` CPUs through the cpus facet. */
export function cpuCountEvent(kind: string, direction: 1 | -1, describe: string): EventKind<{ count: number }> {
  return defineEvent({
    kind,
    facet: 'cpus',
    describe,
    validate: (params) => validateCount(kind, params),
    apply: ({ machine, params, signal }) =>
      changeCpus(machine, direction * params.count, () => (direction > 0 ? machine.controls.cpus!.plug() : machine.controls.cpus!.unplug()), signal),
  });
}
