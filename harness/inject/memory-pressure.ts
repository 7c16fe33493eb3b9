import { setTimeout as sleep } from 'node:timers/promises';
import { metric } from '../model/metrics.js';
import { defineEvent } from './kind.js';
import { EventParams } from './params.js';
import { memInfo } from './observe.js';

/** The physical counterpart of ballooning: allocate and hold `size` for `duration`, then release. */
export const memoryPressure = defineEvent<{ sizeMiB: number; durationMs: number }>({
  kind: 'memory-pressure',
  facet: 'memoryPressure',
  describe: 'allocate and hold memory on a physical host',
  validate(params) {
    const p = new EventParams('memory-pressure', params, ['size', 'duration']);
    return { sizeMiB: p.sizeMiB('size', 256), durationMs: p.durationMs('duration', 2_000) };
  },
  async apply({ machine, params: { sizeMiB, durationMs }, signal }) {
    const before = await memInfo(machine);
    const ack = await machine.controls.memoryPressure!.hold(sizeMiB);
    const during = await memInfo(machine);
    const observedAt = performance.now();
    await sleep(durationMs, undefined, { signal }).catch(() => undefined);
    await machine.controls.memoryPressure!.release();
    return {
      acknowledgedAt: ack.acknowledgedAt,
      observedAt,
      metrics: { held_mib: metric(sizeMiB, 'MiB'), memavailable_before_kib: metric(before.availableKiB, 'KiB'), memavailable_during_kib: metric(during.availableKiB, 'KiB') },
    };
  },
});
