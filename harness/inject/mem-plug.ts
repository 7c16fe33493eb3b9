import { metric } from '../model/metrics.js';
import type { EventKind } from './kind.js';
import { EventParams } from './params.js';
import { memTotalOf, observe } from './observe.js';

/** Hot-plug a DIMM of `size` (default 128M) and wait for the guest's MemTotal to grow. */
export const memPlug: EventKind = {
  kind: 'mem-plug',
  facet: 'memory',
  describe: 'hot-plug memory (object-add + device_add pc-dimm)',
  async run({ machine, params, signal }) {
    const sizeMiB = new EventParams('mem-plug', params).sizeMiB('size', 128);
    const before = await memTotalOf(machine)();
    const ack = await machine.controls.memory!.plug(sizeMiB);
    const seen = await observe(memTotalOf(machine), (kib) => kib > before + (sizeMiB * 1024) / 2, `MemTotal to grow by ${sizeMiB} MiB`, signal);
    return {
      acknowledgedAt: ack.acknowledgedAt,
      observedAt: seen.at,
      metrics: { memtotal_before_kib: metric(before, 'KiB'), memtotal_after_kib: metric(seen.value, 'KiB') },
      detail: { ...ack.detail, id: ack.id },
    };
  },
};
