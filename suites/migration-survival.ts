import { defineSuite } from '../harness/suite/api.js';
import { durationOption, enumOption, millisecondsOption, optionsSchema, sizeOption } from '../harness/suite/options-schema.js';
import { afterReady } from './lib/triggers.js';
import { appHealth } from './lib/app-state.js';

const PASS_THROUGH = ['max-bandwidth', 'downtime-limit', 'auto-converge', 'xbzrle', 'multifd', 'postcopy', 'timeout', 'transport'];

/**
 * The application keeps running and answering across a live migration, and the measured downtime
 * stays within what it tolerates: `maxDowntimeMs`, judged on `downtimeSource` heartbeat (as seen
 * from outside, default) or qemu (as QEMU reports it). Migration knobs pass through.
 */
export const migrationSurvival = defineSuite({
  name: 'migration-survival',
  description: 'the application survives live migration within its tolerable downtime',
  optionsSchema: optionsSchema({
    maxDowntimeMs: millisecondsOption('The downtime the application tolerates.'),
    downtimeSource: enumOption('Which downtime is judged (default heartbeat).', ['heartbeat', 'qemu']),
    'max-bandwidth': sizeOption('Migration bandwidth per second.'),
    'downtime-limit': durationOption("QEMU's downtime limit."),
    'auto-converge': { type: 'boolean' },
    xbzrle: { type: 'boolean' },
    multifd: { type: 'integer', minimum: 0, maximum: 255 },
    postcopy: { type: 'boolean' },
    timeout: durationOption('Give up (and cancel) after this long.'),
    transport: enumOption('Migration transport.', ['unix', 'tcp']),
  }),
  needs: { controls: ['migrate'], runningApp: true },
  events(cell, options) {
    const params = Object.fromEntries(PASS_THROUGH.filter((k) => options[k] !== undefined).map((k) => [k, options[k]]));
    return [afterReady(cell, 'migrate', params, 'migrate (migration-survival)')];
  },
  async afterEvent(context, record) {
    if (record.kind !== 'migrate' || record.outcome !== 'ok') return;
    const health = await appHealth(context);
    context.check('app on the destination', health.running && health.healthy, health.detail);
    const source = context.options.downtimeSource === 'qemu' ? 'qemu' : 'heartbeat';
    const downtime = record.metrics[source === 'qemu' ? 'downtime_qemu_ms' : 'downtime_heartbeat_ms']?.value;
    if (downtime === undefined) {
      context.skipCheck('downtime within tolerance', `no ${source} downtime was measured`);
      return;
    }
    context.metric('downtime_ms', downtime, 'ms');
    const limit = typeof context.options.maxDowntimeMs === 'number' ? context.options.maxDowntimeMs : undefined;
    if (limit === undefined) {
      context.check('downtime within tolerance', true, `downtime ${downtime.toFixed(0)} ms (${source}); set maxDowntimeMs to judge it`);
      return;
    }
    context.check(
      'downtime within tolerance',
      downtime <= limit,
      downtime <= limit
        ? `downtime ${downtime.toFixed(0)} ms (${source}) is within the application's tolerance of ${limit} ms`
        : `downtime ${downtime.toFixed(0)} ms (${source}) exceeds the application's tolerance of ${limit} ms`,
    );
  },
  async check(context) {
    const migration = context.events.find((e) => e.kind === 'migrate');
    if (!migration) context.skipCheck('migrated', 'no migration happened in this cell');
  },
});
