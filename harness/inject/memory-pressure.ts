import { setTimeout as sleep } from 'node:timers/promises';
import { metric } from '../model/metrics.js';
import type { EventKind } from './kind.js';
import { EventParams } from './params.js';
import { memInfo } from './observe.js';

/** The physical counterpart of ballooning: allocate and hold `size` for `duration`, then release. */
export const memoryPressure: EventKind = {
  kind: 'memory-pressure',
  facet: 'memoryPressure',
  describe: 'allocate and hold memory on a physical host',
  async run({ machine, params, signal }) {
    const p = new EventParams('memory-pressure', params);
    const sizeMiB = p.sizeMiB('size', 256);
    const before = await memInfo(machine);
    const ack = await machine.controls.memoryPressure!.hold(sizeMiB);
    const during = await memInfo(machine);
    await sleep(p.durationMs('duration', 2_000), undefined, { signal }).catch(() => undefined);
    await machine.controls.memoryPressure!.release();
    return {
      acknowledgedAt: ack.acknowledgedAt,
      observedAt: performance.now(),
      metrics: { held_mib: metric(sizeMiB, 'MiB'), memavailable_before_kib: metric(before.availableKiB, 'KiB'), memavailable_during_kib: metric(during.availableKiB, 'KiB') },
    };
  },
};
