/** Which waiting item starts when a slot frees (undefined: none yet); `onChange` asks again. */
export interface PoolSchedule<T> {
  pick(waiting: readonly T[]): number | undefined;
  onChange(listener: () => void): void;
  finished?(item: T): void;
}

/**
 * A bounded pool: at most `size` tasks at once, in order, or in the order a `schedule` picks
 * (a slot it leaves empty is filled when it reports a change or a task ends; with nothing
 * running, the first waiting item starts, so a schedule can never stall the run). Cancelling
 * (the signal) stops starting queued tasks; running ones see the same signal and finish on their own.
 * Without a schedule, items are read from `items` as slots free (a lazy source stays lazy); a
 * schedule picks among every waiting item.
 */
export async function runPool<T>(
  items: Iterable<T>,
  size: number,
  signal: AbortSignal,
  task: (item: T) => Promise<void>,
  schedule?: PoolSchedule<T>,
): Promise<{ started: number; skippedByCancel: T[] }> {
  const source = schedule ? undefined : items[Symbol.iterator]();
  const waiting = schedule ? [...items] : [];
  /** Without a schedule, the next item is read only when a slot can take it. */
  const refill = (): void => {
    if (!source || waiting.length > 0) return;
    const next = source.next();
    if (!next.done) waiting.push(next.value);
  };
  const limit = Math.max(1, size);
  let running = 0;
  let started = 0;
  let failed = false;
  return new Promise((resolve, reject) => {
    const fill = (): void => {
      while (!failed && !signal.aborted && running < limit) {
        refill();
        if (waiting.length === 0) break;
        const index = schedule ? (schedule.pick(waiting) ?? (running === 0 ? 0 : undefined)) : 0;
        if (index === undefined) break;
        const item = waiting.splice(index, 1)[0]!;
        running++;
        started++;
        task(item).then(
          () => {
            running--;
            schedule?.finished?.(item);
            fill();
          },
          (error: unknown) => {
            // As before: the first task error fails the run; nothing more starts.
            failed = true;
            reject(error);
          },
        );
      }
      if (!failed && running === 0 && (waiting.length === 0 || signal.aborted)) resolve({ started, skippedByCancel: source ? [...waiting, ...{ [Symbol.iterator]: () => source }] : waiting });
    };
    schedule?.onChange(() => queueMicrotask(fill));
    fill();
  });
}
