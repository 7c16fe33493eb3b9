import { describe, expect, it } from 'vitest';
import type { HostRef } from '../../model/cell.js';
import { HostPool } from './pool.js';

const host = (name: string, slots = 1, labels: string[] = []): HostRef => ({ name, address: '127.0.0.1', port: 22, user: 'root', labels, slots });

describe('host pool', () => {
  it('gives a host to one cell at a time, FIFO', async () => {
    const pool = new HostPool([host('lab1')]);
    const first = await pool.acquire({ name: 'lab1' });
    const order: string[] = [];
    const second = pool.acquire({ name: 'lab1' }).then((l) => (order.push('second'), l));
    const third = pool.acquire({ name: 'lab1' }).then((l) => (order.push('third'), l));
    await new Promise((r) => setTimeout(r, 10));
    expect(order).toEqual([]);
    first.release();
    (await second).release();
    (await third).release();
    expect(order).toEqual(['second', 'third']);
    expect(pool.usage()).toEqual({ lab1: 0 });
  });

  it('honours slots and labels, and drops an aborted wait', async () => {
    const pool = new HostPool([host('a', 2, ['x86']), host('b', 1, ['arm'])]);
    const one = await pool.acquire({ label: 'x86' });
    const two = await pool.acquire({ name: 'x86' });
    expect([one.host.name, two.host.name]).toEqual(['a', 'a']);
    const controller = new AbortController();
    const waiting = pool.acquire({ label: 'x86' }, controller.signal);
    controller.abort(new Error('interrupted'));
    await expect(waiting).rejects.toThrow('interrupted');
    one.release();
    expect((await pool.acquire({ label: 'x86' })).host.name).toBe('a');
    await expect(pool.acquire({ label: 'mips' })).rejects.toThrow(/no host/);
  });
});
