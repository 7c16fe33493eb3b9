import { metric } from '../model/metrics.js';
import { defineEvent } from './kind.js';
import { EventParams } from './params.js';
import { memInfo, observe } from './observe.js';

/** Hot-plug a DIMM of `size` (default 128M) and wait for the guest's MemTotal to grow. */
export const memPlug = defineEvent<{ sizeMiB: number }>({
  kind: 'mem-plug',
  facet: 'memory',
  describe: 'hot-plug memory (object-add + device_add pc-dimm)',
  validate(params) {
    const p = new EventParams('mem-plug', params, ['size']);
    const sizeMiB = p.sizeMiB('size', 128);
    if (!Number.isInteger(sizeMiB)) p.fail('size', 'a whole number of MiB such as 128M');
    return { sizeMiB };
  },
  async apply({ machine, params, signal }) {
    const before = await memInfo(machine);
    const ack = await machine.controls.memory!.plug(params.sizeMiB);
    const grown = (kib: { totalKiB: number }) => kib.totalKiB > before.totalKiB + (params.sizeMiB * 1024) / 2;
    const seen = await observe(() => memInfo(machine), grown, `MemTotal to grow by ${params.sizeMiB} MiB`, signal);
    return {
      acknowledgedAt: ack.acknowledgedAt,
      observedAt: seen.at,
      metrics: {
        ...ack.metrics,
        dimm_mib: metric(params.sizeMiB, 'MiB'),
        memtotal_before_kib: metric(before.totalKiB, 'KiB'),
        memtotal_after_kib: metric(seen.value.totalKiB, 'KiB'),
        memavailable_before_kib: metric(before.availableKiB, 'KiB'),
        memavailable_after_kib: metric(seen.value.availableKiB, 'KiB'),
      },
      detail: { ...ack.detail, id: ack.id, memTotalKiBBefore: before.totalKiB, memTotalKiBAfter: seen.value.totalKiB },
    };
  },
});
