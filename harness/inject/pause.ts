import { setTimeout as sleep } from 'node:timers/promises';
import { metric } from '../model/metrics.js';
import { defineEvent } from './kind.js';
import { EventParams } from './params.js';
import type { StartedMachine } from '../machines/machine.js';

/** Freeze the machine for `duration` (default 1s), then resume it; observed when the guest answers again. */
export const pause = defineEvent<{ durationMs: number }>({
  kind: 'pause',
  facet: 'pause',
  describe: 'pause the machine (stop/cont) for a while',
  validate: (params) => ({ durationMs: new EventParams('pause', params, ['duration']).durationMs('duration', 1_000) }),
  async apply({ machine, params, signal }) {
    const uptimeBefore = await guestUptimeMs(machine);
    const hostBefore = performance.now();
    const paused = await machine.controls.pause!.pause();
    // An interrupted cell cuts the pause short but never leaves the machine frozen.
    await sleep(params.durationMs, undefined, { signal }).catch(() => undefined);
    const resumed = await machine.controls.pause!.resume();
    const uptimeAfter = await guestUptimeMs(machine);
    const observedAt = performance.now();
    return {
      acknowledgedAt: paused.acknowledgedAt,
      observedAt,
      metrics: {
        paused_ms: metric(resumed.acknowledgedAt - paused.acknowledgedAt, 'ms'),
        // The guest's monotonic clock (/proc/uptime) across the pause against the host's: a guest clock that stops while paused advances less.
        guest_monotonic_advance_ms: metric(uptimeAfter - uptimeBefore, 'ms'),
        host_elapsed_ms: metric(observedAt - hostBefore, 'ms'),
      },
    };
  },
});

/** The guest's CLOCK_BOOTTIME-based uptime in ms (10 ms resolution); answering also proves the guest runs. */
async function guestUptimeMs(machine: StartedMachine): Promise<number> {
  const result = await machine.exec(['cat', '/proc/uptime'], { timeoutMs: 30_000 });
  return Number(result.stdout.trim().split(/\s+/)[0]) * 1000;
}
