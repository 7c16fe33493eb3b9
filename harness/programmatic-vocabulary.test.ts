import { describe, expect, it } from 'vitest';
import { defineCell } from './programmatic.js';

describe('defineCell speaks the matrix vocabulary', () => {
  it('ready, timeout: 60s, memory: 384M, cpu, maxvcpus, maxmem and a cell timeout: 3m', () => {
    const cell = defineCell({
      machine: { cpu: 'Nehalem', vcpus: 1, maxvcpus: 2, memory: '384M', maxmem: '1G' },
      app: { command: ['/bin/true'], ready: 'listening', timeout: '60s' },
      timeout: '3m',
    });
    expect(cell.machine).toMatchObject({ cpuModel: 'Nehalem', vcpus: 1, maxVcpus: 2, memoryMiB: 384, maxMemoryMiB: 1024 });
    expect(cell.app).toMatchObject({ readyPattern: 'listening', timeoutMs: 60_000 });
    expect(cell.timeoutMs).toBe(180_000);
    expect(cell.machine).not.toHaveProperty('cpu');
    expect(cell.app).not.toHaveProperty('ready');
  });

  it('the old names still work (deprecated) and give the same cell', () => {
    const old = defineCell({ machine: { cpuModel: 'Nehalem', maxVcpus: 2, memoryMiB: 384 }, app: { command: ['/bin/true'], readyPattern: 'listening', timeoutMs: 60_000 }, timeoutMs: 180_000 });
    const matrixWords = defineCell({ machine: { cpu: 'Nehalem', maxvcpus: 2, memory: 384 }, app: { command: ['/bin/true'], ready: 'listening', timeout: 60_000 }, timeout: '180s' });
    expect(matrixWords).toEqual(old);
  });

  it('both names disagreeing, or a value that is not a size or duration, is a config error naming it', () => {
    expect(() => defineCell({ app: { command: ['x'], ready: 'a', readyPattern: 'b' } })).toThrow(/app\.ready and app\.readyPattern name the same thing and disagree/);
    expect(() => defineCell({ machine: { memory: 'lots' }, app: { command: ['x'] } })).toThrow(/machine\.memory: "lots" is not a size/);
    expect(() => defineCell({ app: { command: ['x'], timeout: 'soon' } })).toThrow(/app\.timeout: "soon" is not a duration/);
  });
});
