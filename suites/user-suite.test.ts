import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defineCell, onLine, runOneCell } from '../harness/index.js';
import threadCount from '../examples/suites/thread-count.js';

/**
 * The user-suite example (examples/suites/thread-count.ts) loaded by path, as a matrix refers to
 * it, on real TCG guests: the fixed-pool demo server leaves the plugged vCPU idle, the adaptive
 * one does not.
 */
describe('a user suite loaded by path', () => {
  const path = fileURLToPath(new URL('../examples/suites/thread-count.ts', import.meta.url));
  const cell = (flags: string[], mode: string) =>
    defineCell({
      machine: { cpuModel: 'max', vcpus: 1, maxVcpus: 2, memoryMiB: 384 },
      app: { command: ['demo-server', ...flags], files: ['@tools/demo-server'], service: true, readyPattern: 'demo-server ready' },
      events: [onLine('demo-server ready', 'cpu-plug', { count: 1 })],
      // the demo server has a main thread and a health-check thread besides its workers
      suites: [{ name: path, options: { process: 'demo-server', extraThreads: 2 } }],
      axes: { mode },
    });

  it('fails the fixed pool after a vCPU plug and passes the adaptive one', async () => {
    expect(threadCount.name).toBe('thread-count');
    const started = performance.now();
    // The adaptive server re-reads the CPU count every 200 ms: give it a line to show it did.
    const adaptiveCell = cell(['--adaptive'], 'adaptive');
    adaptiveCell.events.push(onLine('demo-server resized workers=2', 'pause', { duration: '10ms' }));
    const [fixed, adaptive] = await Promise.all([runOneCell(cell([], 'fixed'), { snapshots: true }), runOneCell(adaptiveCell, { snapshots: true })]);
    console.log(`thread-count cells (2 in parallel): ${((performance.now() - started) / 1000).toFixed(1)} s`);
    expect(fixed.outcome, fixed.reason).toBe('failed');
    expect(fixed.reason).toBe('thread-count: a worker per CPU: demo-server runs 1 worker threads (3 minus 2) on 2 online CPUs: 1 CPU(s) left idle');
    expect(adaptive.outcome, adaptive.reason).toBe('passed');
    expect(adaptive.suites[0]!.metrics.app_threads!.value).toBe(4);
  });
});
