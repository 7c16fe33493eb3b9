import { describe, expect, it } from 'vitest';
import { runPool, type PoolSchedule } from './pool.js';

/** A task that ends when the test says so: the pool's decisions, not time, are under test. */
function gatedTasks() {
  const ends = new Map<number, () => void>();
  const log: string[] = [];
  const task = (item: number) =>
    new Promise<void>((resolve) => {
      log.push(`start ${item}`);
      ends.set(item, () => {
        log.push(`end ${item}`);
        resolve();
      });
    });
  const end = async (item: number) => {
    ends.get(item)!();
    // Let the pool see the end and start what follows.
    await new Promise((r) => setImmediate(r));
  };
  return { task, end, log };
}

describe('runPool', () => {
  it('runs at most size at once, in order', async () => {
    const { task, end, log } = gatedTasks();
    const done = runPool([1, 2, 3], 2, new AbortController().signal, task);
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['start 1', 'start 2']);
    await end(2);
    expect(log.at(-1)).toBe('start 3');
    await end(1);
    await end(3);
    expect(await done).toEqual({ started: 3, skippedByCancel: [] });
  });

  it('reads a source only as slots free, and hands back what it never read when cancelled', async () => {
    const { task, end, log } = gatedTasks();
    const read: number[] = [];
    function* source() {
      for (const item of [1, 2, 3, 4]) {
        read.push(item);
        yield item;
      }
    }
    const cancel = new AbortController();
    const done = runPool(source(), 2, cancel.signal, task);
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['start 1', 'start 2']);
    // No item is held waiting: the third is read when a slot frees.
    expect(read).toEqual([1, 2]);
    await end(1);
    expect(read).toEqual([1, 2, 3]);
    cancel.abort();
    await end(2);
    await end(3);
    expect(await done).toEqual({ started: 3, skippedByCancel: [4] });
  });

  it('leaves a slot empty while the schedule picks nothing, and fills it when the schedule changes', async () => {
    const { task, end, log } = gatedTasks();
    let allowed = new Set([1]);
    const listeners: Array<() => void> = [];
    const finished: number[] = [];
    const schedule: PoolSchedule<number> = {
      pick: (waiting) => {
        const i = waiting.findIndex((item) => allowed.has(item));
        return i < 0 ? undefined : i;
      },
      onChange: (listener) => void listeners.push(listener),
      finished: (item) => void finished.push(item),
    };
    const done = runPool([1, 2, 3], 3, new AbortController().signal, task, schedule);
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['start 1']);
    allowed = new Set([3]);
    for (const listener of listeners) listener();
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['start 1', 'start 3']);
    allowed = new Set();
    await end(1);
    await end(3);
    // Nothing runs and the schedule picks nothing: the first waiting item starts rather than stall.
    expect(log.at(-1)).toBe('start 2');
    await end(2);
    expect(await done).toEqual({ started: 3, skippedByCancel: [] });
    expect(finished).toEqual([1, 3, 2]);
  });

  it('starts nothing more once cancelled and reports what it skipped', async () => {
    const { task, end } = gatedTasks();
    const controller = new AbortController();
    const done = runPool([1, 2, 3], 1, controller.signal, task);
    await new Promise((r) => setImmediate(r));
    controller.abort();
    await end(1);
    expect(await done).toEqual({ started: 1, skippedByCancel: [2, 3] });
  });

  it('fails with the first task error', async () => {
    await expect(runPool([1, 2], 1, new AbortController().signal, async (item) => {
      if (item === 1) throw new Error('boom');
    })).rejects.toThrow('boom');
  });
});
