import { describe, expect, it } from 'vitest';
import { permutationTest } from 'simple-statistics';
import { compareRuns, formatComparison, timingsOf } from './compare.js';
import { permutationPValue } from './statistics.js';
import { fixtureCell, fixtureRecord } from './fixture.test-helper.js';
import type { Outcome } from '../model/outcome.js';
import type { RunRecord } from './run-record.js';

/** One run per sample, each with cell `x` whose app took that long. */
const runsWith = (samples: number[], outcome: Outcome = 'passed'): RunRecord[] =>
  samples.map((ms, i) => ({ ...fixtureRecord(), runId: `r${i}`, cells: [fixtureCell({ id: 'x', outcome, metrics: { app_ms: { value: ms, unit: 'ms' } } })] }));
const spread = (centre: number) => [centre - 3, centre + 1, centre - 1, centre + 3, centre];

describe('permutation test', () => {
  it('is exact for small repeat counts: complete separation of 5 vs 5 gives 2/252', () => {
    expect(permutationPValue([1, 2, 3, 4, 5], [11, 12, 13, 14, 15])).toBeCloseTo(2 / 252, 10);
    expect(permutationPValue([1, 2, 3], [1, 2, 3])).toBe(1);
  });

  it('agrees with simple-statistics on a larger sample (Monte Carlo path)', () => {
    const a = Array.from({ length: 20 }, (_, i) => 100 + ((i * 7) % 11));
    const b = Array.from({ length: 20 }, (_, i) => 103 + ((i * 5) % 11));
    const ours = permutationPValue(a, b, { maxExact: 0 });
    const theirs = permutationTest(a, b, 'two_side', 20_000);
    expect(Math.abs(ours - theirs)).toBeLessThan(0.02);
    expect(permutationPValue(a, b, { maxExact: 0 })).toBe(ours); // seeded: reproducible
  });
});

describe('compare', () => {
  it('flags a real regression over repeats: 5 × 100±3 ms vs 5 × 130±3 ms', () => {
    const c = compareRuns(runsWith(spread(100)), runsWith(spread(130)));
    expect(c.regressions).toHaveLength(1);
    expect(c.regressions[0]).toMatchObject({ id: 'x', metric: 'app_ms', unit: 'ms', before: spread(100), after: spread(130) });
    expect(c.regressions[0]!.pValue).toBeLessThan(0.01);
    expect(c.regressions[0]!.ratio).toBeCloseTo(1.3, 5);
    expect(c.improvements).toEqual([]);
    expect(c.notes).toEqual([]);
    expect(formatComparison(c, 'text')).toContain('x app_ms: 100 → 130 ms (x1.30, p=0.008, n=5/5)');
  });

  it('does not flag noise from the same distribution, nor a significant but tiny change', () => {
    expect(compareRuns(runsWith(spread(100)), runsWith([101, 99, 103, 98, 100])).regressions).toEqual([]);
    // 100±0.3 vs 102±0.3: certainly different, but 2 % is below the effect-size floor
    const tiny = compareRuns(runsWith([99.7, 100, 100.3, 99.9, 100.1]), runsWith([101.7, 102, 102.3, 101.9, 102.1]));
    expect(tiny.regressions).toEqual([]);
    // wide overlapping spreads with a 15 % shift of the medians: not significant
    expect(compareRuns(runsWith([80, 120, 95, 140, 100]), runsWith([90, 150, 115, 100, 130])).regressions).toEqual([]);
  });

  it('reports improvements as well', () => {
    const c = compareRuns(runsWith(spread(130)), runsWith(spread(100)));
    expect(c.improvements.map((m) => m.metric)).toEqual(['app_ms']);
    expect(c.regressions).toEqual([]);
  });

  it('with one run per side says so and only flags large ratios', () => {
    const modest = compareRuns(runsWith([100]), runsWith([130]));
    expect(modest.regressions).toEqual([]);
    expect(modest.notes[0]).toMatch(/single passed run on a side: compared by ratio only/);
    const large = compareRuns(runsWith([100]), runsWith([200]));
    expect(large.regressions[0]).toMatchObject({ metric: 'app_ms', ratio: 2 });
    expect(Number.isNaN(large.regressions[0]!.pValue)).toBe(true);
    expect(formatComparison(large, 'text')).toContain('(x2.00, single run)');
    expect(JSON.parse(formatComparison(large, 'json')).regressions[0].pValue).toBeNull();
  });

  it('reports outcome changes, added and removed cells, and flaky cells', () => {
    const before = fixtureRecord();
    const after = fixtureRecord();
    after.cells = after.cells.filter((c) => c.id !== 'qemu-max-vcpus1-cccccc').map((c) => (c.id === 'qemu-nehalem-vcpus1-aaaaaa' ? { ...c, outcome: 'failed' as const } : c));
    after.cells.push(fixtureCell({ id: 'new-cell' }));
    const c = compareRuns([before], [after]);
    expect(c.changed).toEqual([{ id: 'qemu-nehalem-vcpus1-aaaaaa', before: 'passed', after: 'failed' }]);
    expect(c.added).toEqual(['new-cell']);
    expect(c.removed).toEqual(['qemu-max-vcpus1-cccccc']);

    const flaky = compareRuns([...runsWith([100, 101]), ...runsWith([99], 'failed')], runsWith([100, 100, 100], 'failed'));
    expect(flaky.flaky).toEqual([{ id: 'x', side: 'before', outcomes: ['passed', 'passed', 'failed'] }]);
    expect(flaky.changed).toEqual([{ id: 'x', before: 'passed', after: 'failed' }]);
    const markdown = formatComparison(flaky, 'markdown');
    expect(markdown).toContain('| `x` | passed | failed |');
    expect(markdown).toContain('### Flaky');
  });

  it('names timings of repeated events apart, and ignores non-time metrics', () => {
    const cell = fixtureCell({
      id: 'y',
      events: [1, 2].map((i) => ({ kind: 'cpu-plug', label: 'cpu-plug', outcome: 'ok' as const, requestedAtMs: i * 1000, durationMs: 10, metrics: { ack_ms: { value: i, unit: 'ms' as const }, cpus_after: { value: i + 1, unit: 'count' as const } } })),
    });
    const names = [...timingsOf(cell).keys()];
    expect(names).toEqual(['boot_ms', 'app_ms', 'cpu-plug.ack_ms', 'cpu-plug#2.ack_ms']);
  });
});
