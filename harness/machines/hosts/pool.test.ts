import { describe, expect, it } from 'vitest';
import type { HostRef } from '../../model/cell.js';
import { HostPool } from './pool.js';

function host(name: string, labels: string[] = [], slots = 1): HostRef {
  return { name, address: '127.0.0.1', port: 22, user: 'root', labels, slots };
}

const settled = async <T>(promise: Promise<T>): Promise<boolean> => {
  let done = false;
  promise.then(() => (done = true), () => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
};

describe('HostPool', () => {
  it('runs one cell at a time on a host with one slot', async () => {
    const pool = new HostPool([host('a')]);
    const first = await pool.acquire({ name: 'a' });
    const second = pool.acquire({ name: 'a' });
    expect(await settled(second)).toBe(false);
    first.release();
    first.release(); // idempotent: must not free a second slot
    const lease = await second;
    expect(lease.host.name).toBe('a');
    expect(pool.inUse('a')).toBe(1);
    lease.release();
    expect(pool.usage()).toEqual({ a: 0 });
  });

  it('honours declared slots', async () => {
    const pool = new HostPool([host('big', [], 2)]);
    await pool.acquire({ name: 'big' });
    await pool.acquire({ name: 'big' });
    expect(pool.inUse('big')).toBe(2);
    expect(await settled(pool.acquire({ name: 'big' }))).toBe(false);
  });

  it('serves waiters first in, first out', async () => {
    const pool = new HostPool([host('a')]);
    const held = await pool.acquire({ name: 'a' });
    const order: number[] = [];
    const waits = [1, 2, 3].map((n) => pool.acquire({ name: 'a' }).then((lease) => (order.push(n), lease)));
    let lease = held;
    for (let i = 0; i < 3; i++) {
      lease.release();
      lease = await waits[i]!;
    }
    expect(order).toEqual([1, 2, 3]);
  });

  it('a newcomer does not overtake a waiter', async () => {
    const pool = new HostPool([host('a')]);
    const held = await pool.acquire({ name: 'a' });
    const waiter = pool.acquire({ name: 'a' });
    held.release();
    const newcomer = pool.acquire({ name: 'a' });
    expect(await settled(waiter)).toBe(true);
    expect(await settled(newcomer)).toBe(false);
  });

  it('selects by label across hosts and frees the right one', async () => {
    const pool = new HostPool([host('a', ['x86']), host('b', ['x86']), host('c', ['arm'])]);
    const one = await pool.acquire({ label: 'x86' });
    const two = await pool.acquire({ label: 'x86' });
    expect([one.host.name, two.host.name].sort()).toEqual(['a', 'b']);
    const arm = await pool.acquire({ label: 'arm' });
    expect(arm.host.name).toBe('c');
    const third = pool.acquire({ label: 'x86' });
    two.release();
    expect((await third).host.name).toBe(two.host.name);
  });

  it('an abort rejects the wait and removes the waiter', async () => {
    const pool = new HostPool([host('a')]);
    const held = await pool.acquire({ name: 'a' });
    const controller = new AbortController();
    const wait = pool.acquire({ name: 'a' }, controller.signal);
    controller.abort(new Error('cell cancelled'));
    await expect(wait).rejects.toThrow('cell cancelled');
    expect(pool.waiting).toBe(0);
    held.release();
    expect(pool.inUse('a')).toBe(0);
  });

  it('rejects an unknown host and bad slots with config errors', async () => {
    const pool = new HostPool([host('a')]);
    await expect(pool.acquire({ name: 'nope' })).rejects.toMatchObject({ code: 'HOST_UNKNOWN' });
    expect(() => new HostPool([host('a', [], 0)])).toThrow(/slots 0/);
    expect(() => new HostPool([host('a'), host('a')])).toThrow(/twice/);
  });

  it('places libvirt cells on the pool host with the most free slots; a migration destination excludes the source', async () => {
    const lv = (name: string, slots: number): HostRef => ({ ...host(name, [], slots), libvirt: `qemu+ssh://root@${name}/system` });
    const pool = new HostPool([host('plain', [], 4), lv('a', 3), lv('b', 2)]);
    const first = await pool.acquire({ libvirt: true });
    expect(first.host.name).toBe('a');
    // a and b have 2 free each now: the first listed wins a tie.
    expect((await pool.acquire({ libvirt: true })).host.name).toBe('a');
    expect((await pool.acquire({ libvirt: true })).host.name).toBe('b');
    expect(pool.usage()).toEqual({ plain: 0, a: 2, b: 1 });
    // a has one free slot, b one: excluding a, b it is.
    const away = await pool.acquire({ libvirt: true, exclude: 'a' });
    expect(away.host.name).toBe('b');
    await expect(pool.acquire({ name: 'plain', libvirt: true })).rejects.toMatchObject({ code: 'HOST_UNKNOWN' });
    await expect(pool.acquire({ name: 'a', exclude: 'a' })).rejects.toThrow(/name "a" and not "a"/);
  });

  it('a bounded wait for a slot ends with a deadline naming what it awaited and the slots in use; a release in time grants it', async () => {
    const lv = (name: string): HostRef => ({ ...host(name), libvirt: `qemu+ssh://root@${name}/system` });
    const pool = new HostPool([lv('a'), lv('b')]);
    const [onA, onB] = [await pool.acquire({ name: 'a' }), await pool.acquire({ name: 'b' })];
    const what = 'a free slot on a libvirt host other than "a"';
    const late = pool.acquireWithin({ libvirt: true, exclude: 'a' }, 50, what);
    await expect(late).rejects.toMatchObject({ code: 'DEADLINE', message: expect.stringMatching(/waiting for a free slot on a libvirt host other than "a".*slots used: b 1 of 1/) });
    expect(pool.waiting).toBe(0);
    const inTime = pool.acquireWithin({ libvirt: true, exclude: 'a' }, 10_000, what);
    expect(await settled(inTime)).toBe(false);
    onB.release();
    expect((await inTime).host.name).toBe('b');
    expect(pool.usage()).toEqual({ a: 1, b: 1 });
    const cancelled = new AbortController();
    const aborted = pool.acquireWithin({ libvirt: true, exclude: 'a' }, 10_000, what, cancelled.signal);
    cancelled.abort(new Error('cell cancelled'));
    await expect(aborted).rejects.toThrow('cell cancelled');
    expect(pool.waiting).toBe(0);
    onA.release();
  });
});
