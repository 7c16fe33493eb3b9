import { setTimeout as sleep } from 'node:timers/promises';
import { metric } from '../model/metrics.js';
import { defineEvent } from './kind.js';
import { EventParams } from './params.js';

/** Freeze the machine for `duration` (default 1s), then resume it; observed when the guest answers again. */
export const pause = defineEvent<{ durationMs: number }>({
  kind: 'pause',
  facet: 'pause',
  describe: 'pause the machine (stop/cont) for a while',
  validate: (params) => ({ durationMs: new EventParams('pause', params, ['duration']).durationMs('duration', 1_000) }),
  async apply({ machine, params, signal }) {
    const paused = await machine.controls.pause!.pause();
    // An interrupted cell cuts the pause short but never leaves the machine frozen.
    await sleep(params.durationMs, undefined, { signal }).catch(() => undefined);
    const resumed = await machine.controls.pause!.resume();
    await machine.exec(['true'], { timeoutMs: 30_000 });
    return {
      acknowledgedAt: paused.acknowledgedAt,
      observedAt: performance.now(),
      metrics: { paused_ms: metric(resumed.acknowledgedAt - paused.acknowledgedAt, 'ms') },
    };
  },
});
