import { defineSuite } from '../harness/suite/api.js';
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
    const health = await appHealth(context);
    context.check(`app after ${record.label}`, health.running && health.healthy, health.detail);
  },
  async check(context) {
    const oom = context.machine.output.lines.filter((l) => l.source === 'console' && OOM.test(l.text));
    context.check('no OOM kill', oom.length === 0, oom.length === 0 ? 'the guest killed nothing for memory' : `the guest ran out of memory: ${oom.map((l) => l.text).join(' | ')}`);
  },
});
