import { pollUntil } from '../core/deadline.js';
import type { StartedMachine } from '../machines/machine.js';
import { memInfo, onlineCpus } from '../machines/guest-view.js';

/** Poll the guest quickly until it shows what an event changed; returns when it was seen. */
export async function observe<T>(probe: () => Promise<T>, done: (value: T) => boolean, what: string, signal: AbortSignal, timeoutMs = 30_000): Promise<{ at: number; value: T }> {
  const value = await pollUntil(probe, done, { timeoutMs, intervalMs: 20, what, signal });
  return { at: performance.now(), value };
}

export const cpusOf = (machine: StartedMachine) => () => onlineCpus(machine);
export const memTotalOf = (machine: StartedMachine) => async () => (await memInfo(machine)).totalKiB;
export { memInfo, onlineCpus };
