import { setTimeout as sleep } from 'node:timers/promises';
import { DeadlineError } from './errors.js';

/**
 * Race a promise against a deadline. The timer never keeps the process alive and is always
 * cleared. `lastSeen` is read when the deadline fires, so callers can report progress.
 */
export async function withDeadline<T>(
  work: Promise<T>,
  timeoutMs: number,
  what: string,
  lastSeen?: () => unknown,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(what, timeoutMs, lastSeen?.())), timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export interface PollOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Names what is awaited, for the deadline error. */
  what: string;
  signal?: AbortSignal;
}

/**
 * Poll where no event exists (e.g. a guest's online CPU count). `probe` returns a value;
 * `done` decides. The last value seen goes into the deadline error.
 */
export async function pollUntil<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  options: PollOptions,
): Promise<T> {
  const started = performance.now();
  const interval = options.intervalMs ?? 20;
  let last: T | undefined;
  let lastError: unknown;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      last = await probe();
      if (done(last)) return last;
    } catch (error) {
      lastError = error;
    }
    if (performance.now() - started >= options.timeoutMs) {
      throw new DeadlineError(options.what, options.timeoutMs, last, lastError ? { cause: lastError } : {});
    }
    await sleep(interval, undefined, { ref: false });
  }
}

/** Milliseconds since an origin, with sub-millisecond resolution. */
export function elapsedMs(since: number): number {
  return performance.now() - since;
}
