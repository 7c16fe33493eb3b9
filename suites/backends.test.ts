import { describe, expect, it } from 'vitest';
import { defineCell, runOneCell } from '../harness/index.js';

/**
 * The machine-neutral suites on the local backend (this host, no VM): they run their commands
 * through the same exec, and pmu falls back to the PMU facts the host collected at start.
 */
describe('suites on the local backend', () => {
  it('reads this host its CPU flags, clocks and PMU; the VM-only suites are skipped with the reason', async () => {
    const started = performance.now();
    const result = await runOneCell(
      defineCell({
        backend: 'local',
        app: { command: ['sleep', '1'] },
        suites: [{ name: 'cpu-model', options: {} }, { name: 'clocks', options: { maxDriftMs: 50 } }, { name: 'pmu', options: { require: ['cycles'] } }],
      }),
    );
    console.log(`local cell: ${((performance.now() - started) / 1000).toFixed(1)} s, ${result.outcome}: ${result.reason}`);
    const byName = Object.fromEntries(result.suites.map((s) => [s.suite, s]));
    expect(byName['cpu-model']!.outcome, byName['cpu-model']!.reason).toBe('passed');
    const flags = byName['cpu-model']!.data!.flags as { missingVsHost: string[]; addedVsHost: string[] };
    // the machine is this host: nothing differs
    expect(flags.missingVsHost).toEqual([]);
    expect(flags.addedVsHost).toEqual([]);
    // this host's clock against itself: only the exec round trip's asymmetry
    expect(byName.clocks!.outcome, byName.clocks!.reason).toBe('passed');
    expect(Math.abs(byName.clocks!.metrics.drift_end_ms!.value)).toBeLessThan(50);
    const pmu = byName.pmu!;
    // no bw-perf-probe on this host's PATH: the answer is the one the host collected at start
    expect((pmu.data!.pmu as { source: string }).source).toBe('facts');
    const cycles = pmu.checks.find((c) => c.name === 'requires cycles')!;
    if (cycles.outcome === 'failed') expect(cycles.message).toMatch(/^hardware cycles counter unavailable on this local machine \(\S+\): no PMU for this process/);
    else expect(cycles.message).toBe('hardware cycles can be counted');

    const skipped = await runOneCell(defineCell({ backend: 'local', app: { command: ['sleep', '60'], service: true }, suites: ['migration-survival'] }));
    expect(skipped.outcome).toBe('skipped');
    expect(skipped.reason).toMatch(/suite migration-survival needs migrate/);
  });
});
