import { setTimeout as sleep } from 'node:timers/promises';
import { metric } from '../model/metrics.js';
import type { EventKind } from './kind.js';
import { EventParams } from './params.js';

/** Freeze the machine for `duration` (default 1s), then resume it. */
export const pause: EventKind = {
  kind: 'pause',
  facet: 'pause',
  describe: 'pause the machine (stop/cont) for a while',
  async run({ machine, params, signal }) {
    const duration = new EventParams('pause', params).durationMs('duration', 1_000);
    const paused = await machine.controls.pause!.pause();
    await sleep(duration, undefined, { signal }).catch(() => undefined);
    const resumed = await machine.controls.pause!.resume();
    await machine.exec(['true'], { timeoutMs: 30_000 });
    return {
      acknowledgedAt: paused.acknowledgedAt,
      observedAt: performance.now(),
      metrics: { paused_ms: metric(resumed.acknowledgedAt - paused.acknowledgedAt, 'ms') },
    };
  },
};
