import { defineSuite } from '../harness/suite/api.js';
import { durationOption, enumOption, millisecondsOption, optionsSchema } from '../harness/suite/options-schema.js';
import type { SuiteContext } from '../harness/suite/api.js';
import { monotonicRegressions, sampleClocks, type ClockSample } from './lib/clock-sample.js';
import { afterStart } from './lib/triggers.js';
import type { TimelineEvent } from '../harness/model/cell.js';

const samples = new WeakMap<SuiteContext, Array<ClockSample & { after: string }>>();

async function sample(context: SuiteContext, after: string): Promise<void> {
  const list = samples.get(context) ?? [];
  samples.set(context, list);
  list.push({ ...(await sampleClocks(context.machine)), after });
}

/**
 * Clocksources, monotonic time never going backwards across the cell's pause and migration events,
 * and wall-clock drift against the host before and after each event (and after correction).
 * Options: maxDriftMs (fail beyond it at the end, default 2000); events: [pause, migrate] to schedule
 * them itself (pause: duration, default 1s), each followed by a clock correction unless correct: false.
 */
export const clocks = defineSuite({
  name: 'clocks',
  description: 'clocksources, monotonic never backwards, wall-clock drift across pause/migration',
  optionsSchema: optionsSchema({
    maxDriftMs: millisecondsOption('Fail when the wall clock ends further than this from the host (default 2000).'),
    events: { type: 'array', items: enumOption('An event the suite schedules itself.', ['pause', 'migrate']) },
    pause: durationOption('How long its pause lasts (default 1s).'),
    correct: { description: 'Correct the clock after its events (default true).', type: 'boolean' },
  }),
  events(_cell, options) {
    const wanted = Array.isArray(options.events) ? options.events.map(String) : [];
    const correct = options.correct !== false;
    const events: TimelineEvent[] = [];
    if (wanted.includes('pause')) {
      events.push(afterStart('pause', { duration: options.pause ?? '1s' }, 1_000, 'pause (clocks)'));
      if (correct) events.push(afterStart('clock-correct', {}, 1_100, 'clock-correct (clocks)'));
    }
    if (wanted.includes('migrate')) {
      events.push(afterStart('migrate', { 'max-bandwidth': '10G' }, 1_200, 'migrate (clocks)'));
      if (correct) events.push(afterStart('clock-correct', {}, 1_300, 'clock-correct after migrate (clocks)'));
    }
    return events;
  },
  async before(context) {
    await sample(context, 'start');
  },
  async afterEvent(context, record) {
    if (record.outcome === 'ok') await sample(context, record.label);
  },
  async check(context) {
    await sample(context, 'end');
    const list = samples.get(context)!;
    const { facts } = context;
    context.check('clocksource', true, `current ${facts.clocksource}; available ${facts.availableClocksources.join(', ') || 'unknown'}`);
    const backwards = monotonicRegressions(list);
    context.check(
      'monotonic never backwards',
      backwards.length === 0,
      backwards.length === 0
        ? `CLOCK_MONOTONIC only moved forward across ${list.length} samples (${list.map((s) => s.after).join(' → ')})`
        : `CLOCK_MONOTONIC went backwards ${backwards.map((b) => `${b.from}s → ${b.to}s`).join(', ')}`,
    );
    const drifts = list.map((s) => ({ after: s.after, driftMs: Math.round(s.driftMs) }));
    context.data('clock samples', list);
    const first = list[0]!;
    const last = list.at(-1)!;
    const worst = list.reduce((a, b) => (Math.abs(b.driftMs) > Math.abs(a.driftMs) ? b : a));
    context.metric('drift_start_ms', first.driftMs, 'ms');
    context.metric('drift_end_ms', last.driftMs, 'ms');
    context.metric('drift_worst_ms', worst.driftMs, 'ms');
    const limit = typeof context.options.maxDriftMs === 'number' ? context.options.maxDriftMs : 2_000;
    context.check(
      'wall-clock drift',
      Math.abs(last.driftMs) <= limit,
      `guest wall clock vs host: ${drifts.map((d) => `${d.after} ${d.driftMs >= 0 ? '+' : ''}${d.driftMs} ms`).join(', ')}${Math.abs(last.driftMs) > limit ? ` — ends ${Math.round(last.driftMs)} ms off, beyond ${limit} ms (correct the clock after pause/migration: guest-set-time, or NTP)` : ''}`,
    );
  },
});
