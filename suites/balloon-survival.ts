import { defineSuite } from '../harness/suite/api.js';
import { millisecondsOption, optionsSchema } from '../harness/suite/options-schema.js';
import { afterReady, afterStart } from './lib/triggers.js';
import { appHealth } from './lib/app-state.js';

const OOM = /Out of memory|Killed process|oom-kill/i;

/**
 * The application keeps running and answering its health check while the balloon inflates to
 * `target` (default 50%) and deflates back. Options: target, holdMs (time inflated, default 2000).
 */
export const balloonSurvival = defineSuite({
  name: 'balloon-survival',
  description: 'the application survives balloon inflate/deflate',
  optionsSchema: optionsSchema({
    target: { description: 'Balloon target: a fraction of the memory (50%) or a size (256M).', type: 'string', pattern: '^([0-9]+(\\.[0-9]+)?%|[0-9]+(\\.[0-9]+)?[KMGT]i?B?)$' },
    holdMs: millisecondsOption('Time inflated (default 2000).'),
  }),
  needs: { controls: ['balloon'], runningApp: true },
  events(cell, options) {
    const hold = typeof options.holdMs === 'number' ? options.holdMs : 2_000;
    const readyAt = cell.app.readyPattern ? 0 : 1_000;
    return [
      afterReady(cell, 'balloon', { target: options.target ?? '50%' }, 'balloon inflate'),
      afterStart('balloon', { target: '100%' }, readyAt + hold + 3_000, 'balloon deflate'),
    ];
  },
  async afterEvent(context, record) {
    if (record.kind !== 'balloon' || record.outcome !== 'ok') return;
    const mib = (name: string) => (record.metrics[name] ? Math.round(record.metrics[name].value / 1024) : undefined);
    const memory = {
      targetMiB: record.metrics.target_mib?.value,
      memTotalMiB: { before: mib('memtotal_before_kib'), after: mib('memtotal_after_kib') },
      memAvailableMiB: { before: mib('memavailable_before_kib'), after: mib('memavailable_after_kib') },
    };
    context.data(`memory (${record.label})`, memory);
    context.log(
      `${record.label}: MemTotal ${memory.memTotalMiB.before} → ${memory.memTotalMiB.after} MiB, MemAvailable ${memory.memAvailableMiB.before} → ${memory.memAvailableMiB.after} MiB`,
    );
    const health = await appHealth(context);
    context.check(`app after ${record.label}`, health.running && health.healthy, health.detail);
  },
  async check(context) {
    const inflate = context.events.find((e) => e.label === 'balloon inflate');
    const deflate = context.events.find((e) => e.label === 'balloon deflate');
    if (inflate && deflate && deflate.requestedAtMs < inflate.requestedAtMs) {
      context.skipCheck('balloon held while the app ran', `the deflate fired before the inflate (the app printed its ready line after the deflate's time): the app ran with the balloon inflated at the end; raise holdMs`);
    }
    const oom = context.machine.output.lines.filter((l) => (l.source === 'console' || l.source === 'app') && OOM.test(l.text));
    context.check('no OOM kill', oom.length === 0, oom.length === 0 ? 'the guest killed nothing for memory' : `the guest ran out of memory: ${oom.map((l) => l.text).join(' | ')}`);
  },
});
