import { defineSuite, type SuiteContext } from '../harness/suite/api.js';
import { durationOption, millisecondsOption, optionsSchema, sizeOption } from '../harness/suite/options-schema.js';
import { parseDuration, parseSizeMiB } from '../harness/matrix/units.js';
import type { EventRecord } from '../harness/model/result.js';
import { MemIntegrityTool, type IntegrityWindow } from './lib/mem-integrity-tool.js';

interface State {
  tool: MemIntegrityTool;
  /** Verifies one at a time: events that end together must not close each other's windows. */
  queue: Promise<unknown>;
  seq: number;
  /** Events finished since the last clean window (a failed event does not get its own verify). */
  pending: string[];
  windows: Array<{ after: string } & IntegrityWindow>;
  stalls: Map<string, number>;
}

const states = new WeakMap<SuiteContext, State>();

/**
 * Guest memory comes through every event intact, as QEMU's own migration test demands: the static
 * bw-mem-integrity tool fills `size` (default 64M) with a per-page pattern (page index, generation,
 * seed), keeps rewriting it at `rate` MiB/s (default 32) checking each page before it rewrites it,
 * and after every event and at the end checks every page. A bad page fails the cell, naming the
 * page, the count and the event after which it appeared. Each window also reports the guest-visible
 * stall (the longest gap between two rewrite steps beyond the step the rate asks for), judged
 * against `maxStallMs` when given.
 */
export const memoryIntegrity = defineSuite({
  name: 'memory-integrity',
  description: 'every page the guest wrote reads back intact after every event',
  optionsSchema: optionsSchema({
    size: sizeOption('The region the tool fills and checks (default 64M).'),
    rate: { description: 'MiB per second the tool rewrites (default 32; 0 = write once, check only).', type: 'number', minimum: 0 },
    maxStallMs: millisecondsOption('Fail when the guest-visible stall after an event exceeds this.'),
    verifyTimeout: durationOption('How long one full check may take (default 60s).'),
  }),
  async before(context) {
    const mib = parseSizeMiB((context.options.size as string | number | undefined) ?? '64M');
    const rateMiBps = typeof context.options.rate === 'number' ? context.options.rate : 32;
    // A daemon that outlives a crashed harness on a physical host still ends.
    const tool = await MemIntegrityTool.start(context.machine, { mib, rateMiBps, maxSeconds: context.cell.timeoutMs / 1000 + 60 });
    context.log(`bw-mem-integrity: ${tool.pages} pages (${mib} MiB) at ${rateMiBps} MiB/s, pid ${tool.pid}`);
    states.set(context, { tool, queue: Promise.resolve(), seq: 0, pending: [], windows: [], stalls: new Map() });
  },
  async afterEvent(context, record) {
    const state = states.get(context);
    if (!state || record.outcome === 'skipped') return;
    state.pending.push(record.label);
    // A failed event may have left no machine to ask; the next window (or the end) covers it.
    if (record.outcome !== 'ok') return;
    await verifyWindow(context, state, record);
  },
  async check(context) {
    const state = states.get(context);
    if (!state) return;
    await verifyWindow(context, state, undefined);
    const stalls = state.windows.map((w) => stallMs(w));
    if (stalls.length > 0) context.metric('stall_max_ms', Math.max(...stalls), 'ms');
    context.metric('bad_pages', state.windows.at(-1)?.total_bad ?? 0, 'count');
    context.data('memory integrity windows', state.windows.map(summary));
  },
  async after(context) {
    await states.get(context)?.tool.stop();
  },
});

async function verifyWindow(context: SuiteContext, state: State, record: EventRecord | undefined): Promise<void> {
  const run = state.queue.then(async () => {
    // Each window follows one event; a window may also cover events that failed before it.
    const after = state.pending.length > 0 ? state.pending.join(', ') : 'the last check';
    state.pending = [];
    const timeoutMs = context.options.verifyTimeout !== undefined ? parseDuration(context.options.verifyTimeout as string | number) : 60_000;
    const window = await state.tool.verify(String(++state.seq), timeoutMs);
    state.windows.push({ after, ...window });
    judge(context, state.stalls, window, after, record);
  });
  state.queue = run.catch(() => undefined);
  await run;
}

function judge(context: SuiteContext, stallsByKey: Map<string, number>, w: IntegrityWindow, after: string, record: EventRecord | undefined): void {
  const name = record ? `memory intact after ${record.label}` : 'memory intact at the end';
  const stall = stallMs(w);
  const profile = `guest-visible stall ${stall.toFixed(0)} ms (longest gap between rewrite steps ${w.max_gap_ms.toFixed(0)} ms, one step every ${w.step_ms.toFixed(0)} ms)`;
  if (w.bad_pages === 0) {
    context.check(name, true, `${w.pages} pages intact (${w.writer_checked} checked while rewriting, all ${w.pages} ${record ? `after ${after}` : 'at the end'}); ${profile}`);
  } else {
    context.check(
      name,
      false,
      `page ${w.first_bad_page} went bad after ${after}${record ? '' : ' (found at the end)'}: word ${w.first_bad_word} expected ${w.first_bad_expected} found ${w.first_bad_found} ` +
        `(found by the ${w.first_bad_by === 'writer' ? 'rewriting pass' : 'full check'}); ${w.bad_pages} bad page(s) in this window, ${w.total_bad} in total`,
    );
  }
  if (record) {
    const key = `stall_${record.kind.replace(/[^a-z0-9]+/gi, '_')}_ms`;
    // The same kind twice (inflate, deflate) keeps its worst.
    stallsByKey.set(key, Math.max(stallsByKey.get(key) ?? 0, stall));
    context.metric(key, stallsByKey.get(key)!, 'ms');
    const limit = typeof context.options.maxStallMs === 'number' ? context.options.maxStallMs : undefined;
    if (limit !== undefined) {
      context.check(`guest-visible stall after ${record.label}`, stall <= limit, `${profile}; the application tolerates ${limit} ms`);
    }
  }
}

/** The stall the guest saw: how much longer than one step the longest gap between steps took. */
function stallMs(w: IntegrityWindow): number {
  return w.step_ms > 0 ? Math.max(0, w.max_gap_ms - w.step_ms) : 0;
}

function summary(w: { after: string } & IntegrityWindow): Record<string, unknown> {
  return {
    after: w.after,
    badPages: w.bad_pages,
    ...(w.first_bad_page >= 0 ? { firstBadPage: w.first_bad_page, foundBy: w.first_bad_by } : {}),
    checkedWhileRewriting: w.writer_checked,
    passes: w.passes,
    stallMs: Math.round(stallMs(w)),
    maxGapMs: Math.round(w.max_gap_ms),
    verifyMs: Math.round(w.verify_ms),
  };
}
