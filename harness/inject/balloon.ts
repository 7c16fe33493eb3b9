import { metric } from '../model/metrics.js';
import type { StartedMachine } from '../machines/machine.js';
import { defineEvent } from './kind.js';
import { EventParams } from './params.js';
import { memInfo, observe } from './observe.js';

/** Each machine's full size, read before its first balloon event: "50%" and "100%" are relative to it. */
const fullSize = new WeakMap<StartedMachine, number>();

interface BalloonParams {
  target: { fraction: number } | { mib: number };
  timeoutMs: number;
}

/** Inflate or deflate the balloon to `target` ("50%", "256M"), then wait for the guest's memory to follow. */
export const balloon = defineEvent<BalloonParams>({
  kind: 'balloon',
  facet: 'balloon',
  describe: 'inflate/deflate the virtio balloon (deflate-on-oom) to a size or a fraction',
  validate(params) {
    const p = new EventParams('balloon', params, ['target', 'timeout']);
    return { target: p.fractionOrSize('target'), timeoutMs: p.timeoutMs('timeout', 30_000) };
  },
  async apply({ machine, params, signal }) {
    const control = machine.controls.balloon!;
    if (!fullSize.has(machine)) fullSize.set(machine, await control.actualMiB());
    const full = fullSize.get(machine)!;
    const targetMiB = Math.round('fraction' in params.target ? full * params.target.fraction : params.target.mib);
    const before = await memInfo(machine);
    const ack = await control.setTargetMiB(targetMiB, params.timeoutMs);
    // With deflate-on-oom the guest keeps ballooned pages in MemTotal: MemAvailable is what moves.
    const deltaKiB = Math.abs(targetMiB - (ack.metrics.balloon_before_mib?.value ?? targetMiB)) * 1024;
    const followed = (m: { totalKiB: number; availableKiB: number }) =>
      deltaKiB < 4096 || Math.abs(m.totalKiB - before.totalKiB) > deltaKiB / 2 || Math.abs(m.availableKiB - before.availableKiB) > deltaKiB / 2;
    const seen = await observe(() => memInfo(machine), followed, 'MemTotal or MemAvailable to follow the balloon', signal, 15_000);
    return {
      acknowledgedAt: ack.acknowledgedAt,
      observedAt: seen.at,
      metrics: {
        ...ack.metrics,
        target_mib: metric(targetMiB, 'MiB'),
        memtotal_before_kib: metric(before.totalKiB, 'KiB'),
        memtotal_after_kib: metric(seen.value.totalKiB, 'KiB'),
        memavailable_before_kib: metric(before.availableKiB, 'KiB'),
        memavailable_after_kib: metric(seen.value.availableKiB, 'KiB'),
      },
      detail: { fullMiB: full, targetMiB, memTotalKiBBefore: before.totalKiB, memTotalKiBAfter: seen.value.totalKiB, memAvailableKiBBefore: before.availableKiB, memAvailableKiBAfter: seen.value.availableKiB },
    };
  },
});
