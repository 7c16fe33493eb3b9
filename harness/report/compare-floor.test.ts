import { describe, expect, it } from 'vitest';
import { compareRuns, formatComparison } from './compare.js';
import { fixtureCell, fixtureRecord } from './fixture.test-helper.js';
import type { RunRecord } from './run-record.js';

const run = (id: string, metrics: Record<string, number>): RunRecord => ({
  ...fixtureRecord(),
  runId: id,
  cells: [fixtureCell({ id: 'x', metrics: Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, { value: v, unit: 'ms' }])) })],
});

describe('compare: an absolute floor per metric', () => {
  it('two single runs: start_ms 0.2 → 2.0 ms (x10) is noise, app_ms 100 → 300 ms is a regression; the output says what is not counted', () => {
    const comparison = compareRuns([run('a', { start_ms: 0.2, app_ms: 100 })], [run('b', { start_ms: 2.0, app_ms: 300 })]);
    expect(comparison.regressions.map((r) => r.metric)).toEqual(['app_ms']);
    expect(comparison.notes).toContain('1 timing change(s) smaller than 5 ms not counted, whatever their ratio');
    const text = formatComparison(comparison, 'text');
    expect(text.split('\n')[0]).toBe('0 outcome change(s), 1 timing regression(s), 0 improvement(s) (timing changes under 5 ms are not counted)');
    expect(formatComparison(comparison, 'markdown')).toContain('timing changes under 5 ms are not counted');
  });

  it('the floor is in milliseconds whatever the unit, and can be set', () => {
    const seconds = (v: number): RunRecord => ({ ...fixtureRecord(), cells: [fixtureCell({ id: 'x', metrics: { total: { value: v, unit: 's' } } })] });
    expect(compareRuns([seconds(0.001)], [seconds(0.004)]).regressions).toEqual([]);
    expect(compareRuns([seconds(1)], [seconds(3)]).regressions).toHaveLength(1);
    expect(compareRuns([run('a', { start_ms: 0.2 })], [run('b', { start_ms: 2 })], { floorMs: 0.1 }).regressions).toHaveLength(1);
  });
});
