import { metric } from '../model/metrics.js';
import type { EventKind } from './kind.js';
import { memTotalOf, observe } from './observe.js';

/** Unplug a hot-plugged DIMM (the last one, or `id`) and wait for MemTotal to shrink. */
export const memUnplug: EventKind = {
  kind: 'mem-unplug',
  facet: 'memory',
  describe: 'unplug a hot-plugged DIMM (device_del, DEVICE_DELETED, object-del)',
  async run({ machine, params, signal }) {
    const before = await memTotalOf(machine)();
    const ack = await machine.controls.memory!.unplug(typeof params.id === 'string' ? params.id : undefined);
    const seen = await observe(memTotalOf(machine), (kib) => kib < before, 'MemTotal to shrink', signal);
    return { acknowledgedAt: ack.acknowledgedAt, observedAt: seen.at, metrics: { memtotal_before_kib: metric(before, 'KiB'), memtotal_after_kib: metric(seen.value, 'KiB') }, detail: ack.detail ?? {} };
  },
};
