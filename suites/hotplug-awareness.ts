import { pollUntil } from '../harness/core/deadline.js';
import { DeadlineError } from '../harness/core/errors.js';
import { defineSuite } from '../harness/suite/api.js';
import { argvOption, enumOption, millisecondsOption, optionsSchema, sizeOption } from '../harness/suite/options-schema.js';
import type { EventRecord } from '../harness/model/result.js';
import { afterReady } from './lib/triggers.js';
import { latestWorkers, probeNumber, threadsOf } from './lib/app-state.js';

/**
 * Plugs vCPUs while the application runs and checks whether it adapts: the classic daemon sizes
 * its thread pool to the CPU count at start and never looks again. The application's parallelism
 * is read from a user probe (`probe: [argv]` printing a number), the `workers=N` it prints, or the
 * thread count of the process named `process` (minus `extraThreads` that are not workers). Options: plug (vCPUs to add, default 1), expect
 * (adaptive | fixed, default adaptive), settleMs (default 2000), memory (also plug a DIMM, e.g. 128M).
 */
export const hotplugAwareness = defineSuite({
  name: 'hotplug-awareness',
  description: 'does the application adapt to vCPUs plugged while it runs?',
  optionsSchema: optionsSchema({
    plug: { description: 'vCPUs to plug (default 1).', type: 'integer', minimum: 1, maximum: 4096 },
    expect: enumOption('What the application should do (default adaptive).', ['adaptive', 'fixed']),
    settleMs: millisecondsOption('How long the application has to adapt (default 2000).'),
    memory: sizeOption('Also plug a DIMM of this size.'),
    probe: argvOption("A command printing the application's parallelism."),
    process: { description: 'The process whose threads are counted.', type: 'string' },
    extraThreads: { description: 'Threads of `process` that are not workers.', type: 'integer', minimum: 0 },
  }),
  needs: (_cell, options) => ({ controls: options.memory ? ['cpus', 'memory'] : ['cpus'], runningApp: true }),
  events(cell, options) {
    const events = [afterReady(cell, 'cpu-plug', { count: typeof options.plug === 'number' ? options.plug : 1 }, 'cpu-plug (hotplug-awareness)')];
    if (options.memory) events.push(afterReady(cell, 'mem-plug', { size: options.memory }, 'mem-plug (hotplug-awareness)'));
    return events;
  },
  async check(context) {
    const dimm = context.events.find((e: EventRecord) => e.kind === 'mem-plug' && e.label.includes('hotplug-awareness'));
    if (dimm) {
      const [from, to] = [dimm.metrics.memtotal_before_kib?.value, dimm.metrics.memtotal_after_kib?.value];
      if (dimm.outcome === 'ok') context.check('memory plug seen by the guest', true, `MemTotal ${Math.round(from! / 1024)} → ${Math.round(to! / 1024)} MiB`);
      else context.skipCheck('memory plug seen by the guest', `the memory plug did not happen (${dimm.reason ?? dimm.error?.message ?? dimm.outcome})`);
    }
    const plug = context.events.find((e: EventRecord) => e.kind === 'cpu-plug' && e.label.includes('hotplug-awareness'));
    if (!plug || plug.outcome !== 'ok') {
      context.skipCheck('adapts to vCPU plug', `the vCPU plug did not happen (${plug?.reason ?? plug?.error?.message ?? 'no event'})`);
      return;
    }
    const before = plug.metrics.cpus_before!.value;
    const after = plug.metrics.cpus_after!.value;
    const expect = context.options.expect === 'fixed' ? 'fixed' : 'adaptive';
    const settleMs = typeof context.options.settleMs === 'number' ? context.options.settleMs : 2_000;
    const extra = typeof context.options.extraThreads === 'number' ? context.options.extraThreads : 0;
    const read = async (): Promise<{ value?: number; how: string }> => {
      if (Array.isArray(context.options.probe)) return { value: await probeNumber(context, context.options.probe.map(String)), how: 'the probe' };
      if (typeof context.options.process === 'string') {
        const threads = await threadsOf(context, context.options.process);
        return { value: threads === undefined ? undefined : threads - extra, how: `the threads of ${context.options.process}${extra ? ` minus ${extra}` : ''}` };
      }
      return { value: latestWorkers(context), how: 'the workers=N it printed' };
    };
    const started = performance.now();
    if (Array.isArray(context.options.probe) || typeof context.options.process === 'string') {
      await pollUntil(read, (r) => r.value === after, { timeoutMs: settleMs, intervalMs: 200, what: 'the application to show the new CPU count', signal: context.signal }).catch(
        (error: unknown) => {
          if (!(error instanceof DeadlineError)) throw error;
        },
      );
    } else {
      // Event-driven: the application says when it resized (or its heartbeat shows the count).
      await context.machine.output.waitForLine(new RegExp(`\\bworkers=${after}\\b`), settleMs, 'app').catch((error: unknown) => {
        if (!(error instanceof DeadlineError)) throw error;
      });
    }
    const seen = await read();
    const waitedMs = Math.round(performance.now() - started);
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
          ? `app went to ${seen.value} workers after vCPUs went ${before}→${after} (read from ${seen.how})`
          : `app kept ${seen.value} worker threads after vCPUs went ${before}→${after} (it sized its pool at start and never re-read the CPU count; read from ${seen.how}, waited ${waitedMs} ms)`,
      );
    } else {
      context.check('keeps a fixed pool', seen.value !== after || before === after, `app has ${seen.value} workers with ${after} vCPUs (expected a fixed pool)`);
    }
  },
});
