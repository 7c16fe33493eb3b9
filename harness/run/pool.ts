/**
 * A bounded pool: at most `size` tasks at once, in order. Cancelling (the signal) stops
 * starting queued tasks; running ones see the same signal and finish on their own.
 */
export async function runPool<T>(
  items: T[],
  size: number,
  signal: AbortSignal,
  task: (item: T) => Promise<void>,
): Promise<{ started: number; skippedByCancel: T[] }> {
  let next = 0;
  let started = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length && !signal.aborted) {
      const item = items[next++]!;
      started++;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(size, items.length)) }, worker));
  return { started, skippedByCancel: items.slice(next) };
}
