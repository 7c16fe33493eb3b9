import { metric } from '../model/metrics.js';
import { defineEvent } from './kind.js';
import { EventParams } from './params.js';
import { memTotalOf, observe } from './observe.js';

/** Unplug a hot-plugged DIMM (the last one, or `id`) and wait for MemTotal to shrink. */
export const memUnplug = defineEvent<{ id?: string }>({
  kind: 'mem-unplug',
  facet: 'memory',
  describe: 'unplug a hot-plugged DIMM (device_del, DEVICE_DELETED, object-del)',
  validate(params) {
    const p = new EventParams('mem-unplug', params, ['id']);
    if (params.id !== undefined && typeof params.id !== 'string') p.fail('id', 'the id of a plugged DIMM (bwdimmN)');
    return typeof params.id === 'string' ? { id: params.id } : {};
  },
  async apply({ machine, params, signal }) {
    const before = await memTotalOf(machine)();
    const ack = await machine.controls.memory!.unplug(params.id);
    const seen = await observe(memTotalOf(machine), (kib) => kib < before, 'MemTotal to shrink', signal);
    return {
      acknowledgedAt: ack.acknowledgedAt,
      observedAt: seen.at,
      metrics: { ...ack.metrics, memtotal_before_kib: metric(before, 'KiB'), memtotal_after_kib: metric(seen.value, 'KiB') },
      detail: ack.detail ?? {},
    };
  },
});
