import type { ConsoleLine } from '../model/result.js';
import type { Trigger } from '../model/cell.js';
import type { LineSource } from '../machines/machine.js';

/** Why a trigger will never fire: the text becomes the skipped record's reason. */
export class TriggerMissed extends Error {}

export interface TriggerWaitOptions {
  output: LineSource;
  /** performance.now() when the application started: `at` offsets count from here, and only lines from then on match. */
  appStartedAt: number;
  /** Give up on a `line` trigger after this long. */
  timeoutMs: number;
  signal: AbortSignal;
  /** Resolves when the application has ended, rejects when it can no longer be followed: a trigger still pending then never comes. */
  appEnded?: Promise<unknown>;
}

/**
 * Resolves with the performance.now() at which the trigger fired, or rejects with TriggerMissed
 * (its line never came, the application ended first, the cell was interrupted). Event-driven: a
 * line trigger listens to the machine's output, it never polls.
 */
export function waitForTrigger(trigger: Trigger, options: TriggerWaitOptions, delayMs = 0): Promise<number> {
  const { output, signal } = options;
  return new Promise<number>((resolve, reject) => {
    const cleanups: Array<() => void> = [];
    const settle = (outcome: { at: number } | { reason: string }): void => {
      for (const cleanup of cleanups.splice(0)) cleanup();
      if ('at' in outcome) resolve(outcome.at);
      else reject(new TriggerMissed(outcome.reason));
    };
    if (signal.aborted) return settle({ reason: 'the cell was interrupted before the event fired' });
    const onAbort = () => settle({ reason: 'the cell was interrupted before the event fired' });
    signal.addEventListener('abort', onAbort, { once: true });
    cleanups.push(() => signal.removeEventListener('abort', onAbort));
    // `delayMs` after the trigger (a repeat): still cancelled by an abort or the application's end.
    const fire = (at: number): void => {
      const wait = at + delayMs - performance.now();
      if (wait <= 0) return settle({ at: at + delayMs });
      const timer = setTimeout(() => settle({ at: performance.now() }), wait);
      cleanups.push(() => clearTimeout(timer));
    };
    let ended = false;
    options.appEnded?.then(
      () => !ended && settle({ reason: `the application ended before its trigger (${describeTrigger(trigger)}) came` }),
      (error: unknown) => !ended && settle({ reason: `the application could not be followed before its trigger (${describeTrigger(trigger)}) came: ${error instanceof Error ? error.message : String(error)}` }),
    );
    cleanups.push(() => (ended = true));

    if (trigger.kind === 'at') {
      fire(options.appStartedAt + trigger.afterMs);
      return;
    }
    const pattern = new RegExp(trigger.pattern);
    const since = options.appStartedAt - output.origin;
    const matches = (line: ConsoleLine) => line.source === trigger.source && line.t >= since && pattern.test(line.text);
    const seen = output.lines.find(matches);
    if (seen) return fire(seen.t + output.origin);
    const timer = setTimeout(
      () => settle({ reason: `its trigger never came: no ${trigger.source} line matching /${trigger.pattern}/ within ${options.timeoutMs} ms` }),
      options.timeoutMs,
    );
    cleanups.push(() => clearTimeout(timer));
    const onLine = (line: ConsoleLine): void => {
      if (!matches(line)) return;
      output.removeListener('line', onLine);
      clearTimeout(timer);
      fire(line.t + output.origin);
    };
    output.on('line', onLine);
    cleanups.push(() => output.removeListener('line', onLine));
  });
}

export function describeTrigger(trigger: Trigger): string {
  return trigger.kind === 'at' ? `at ${trigger.afterMs} ms` : `${trigger.source} line /${trigger.pattern}/`;
}
