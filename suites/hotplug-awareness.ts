import { setTimeout as sleep } from 'node:timers/promises';
import { defineSuite } from '../harness/suite/api.js';
import type { EventRecord } from '../harness/model/result.js';
import { afterReady } from './lib/triggers.js';
import { latestWorkers, probeNumber, threadsOf } from './lib/app-state.js';

/**
 * Plugs vCPUs while the application runs and checks whether it adapts: the classic daemon sizes
 * its thread pool to the CPU count at start and never looks again. The application's parallelism
 * is read from a user probe (`probe: [argv]` printing a number), the `workers=N` it prints, or the
 * thread count of the process named `process`. Options: plug (vCPUs to add, default 1), expect
 * (adaptive | fixed, default adaptive), settleMs (default 2000), memory (also plug a DIMM, e.g. 128M).
 */
export const hotplugAwareness = defineSuite({
  name: 'hotplug-awareness',
  description: 'does the application adapt to vCPUs plugged while it runs?',
  needs: (_cell, options) => ({ controls: options.memory ? ['cpus', 'memory'] : ['cpus'], runningApp: true }),
  events(cell, options) {
    const events = [afterReady(cell, 'cpu-plug', { count: typeof options.plug === 'number' ? options.plug : 1 }, 'cpu-plug (hotplug-awareness)')];
    if (options.memory) events.push(afterReady(cell, 'mem-plug', { size: options.memory }, 'mem-plug (hotplug-awareness)'));
    return events;
  },
  async check(context) {
    const plug = context.events.find((e: EventRecord) => e.kind === 'cpu-plug' && e.label.includes('hotplug-awareness'));
    if (!plug || plug.outcome !== 'ok') {
      context.skipCheck('adapts to vCPU plug', `the vCPU plug did not happen (${plug?.reason ?? plug?.error?.message ?? 'no event'})`);
      return;
    }
    const before = plug.metrics.cpus_before!.value;
    const after = plug.metrics.cpus_after!.value;
    const expect = context.options.expect === 'fixed' ? 'fixed' : 'adaptive';
    const settleMs = typeof context.options.settleMs === 'number' ? context.options.settleMs : 2_000;
    const read = async (): Promise<{ value?: number; how: string }> => {
      if (Array.isArray(context.options.probe)) return { value: await probeNumber(context, context.options.probe.map(String)), how: 'the probe' };
      if (typeof context.options.process === 'string') return { value: await threadsOf(context, context.options.process), how: `threads of ${context.options.process}` };
      return { value: latestWorkers(context), how: 'the workers=N it printed' };
    };
    // Event-driven where possible: stop waiting as soon as the application shows the new count.
    const deadline = performance.now() + settleMs;
    let seen = await read();
    while (seen.value !== after && performance.now() < deadline) {
      await sleep(100);
      seen = await read();
    }
    if (seen.value === undefined) {
      context.skipCheck('adapts to vCPU plug', `could not read the application's parallelism from ${seen.how}; declare options.probe or options.process`);
      return;
    }
    context.metric('app_parallelism_after', seen.value, 'count');
    context.metric('vcpus_before', before, 'count');
    context.metric('vcpus_after', after, 'count');
    if (expect === 'adaptive') {
      context.check(
        'adapts to vCPU plug',
        seen.value === after,
        seen.value === after
          ? `app went to ${seen.value} workers after vCPUs went ${before}→${after}`
          : `app kept ${seen.value} worker threads after vCPUs went ${before}→${after} (it sized its pool at start and never re-read the CPU count; read by ${seen.how} after ${settleMs} ms)`,
      );
    } else {
      context.check('keeps a fixed pool', seen.value !== after || before === after, `app has ${seen.value} workers with ${after} vCPUs (expected a fixed pool)`);
    }
  },
});
