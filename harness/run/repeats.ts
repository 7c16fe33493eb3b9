import { mean, quantileSorted, sampleStandardDeviation } from 'simple-statistics';
import type { Cell } from '../model/cell.js';
import type { Metric } from '../model/metrics.js';
import type { Outcome } from '../model/outcome.js';
import { worstOutcome } from '../model/outcome.js';
import type { CellResult, MetricStats, RepeatSummary } from '../model/result.js';

/** Student's t, two-sided 95% (0.975 quantile), for 1..30 degrees of freedom; 1.96 beyond. */
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

/** p50/p95/p99 (interpolated between the sorted runs, as simple-statistics does) and a 95% CI of the mean. */
export function metricStats(values: number[], unit: Metric['unit']): MetricStats {
  const sorted = [...values].sort((a, b) => a - b);
  const average = mean(sorted);
  const half = sorted.length > 1 ? (T975[sorted.length - 2] ?? 1.96) * (sampleStandardDeviation(sorted) / Math.sqrt(sorted.length)) : 0;
  return {
    unit,
    n: sorted.length,
    p50: quantileSorted(sorted, 0.5),
    p95: quantileSorted(sorted, 0.95),
    p99: quantileSorted(sorted, 0.99),
    mean: average,
    // A duration or a count is never negative: neither is the interval of its mean.
    ci95: [sorted[0]! >= 0 ? Math.max(0, average - half) : average - half, average + half],
  };
}

/** Every number a run measured, by a name that is stable across runs. */
export function flattenMetrics(result: CellResult): Record<string, Metric> {
  const flat: Record<string, Metric> = { ...result.metrics };
  for (const suite of result.suites) for (const [name, m] of Object.entries(suite.metrics)) flat[`${suite.suite}/${name}`] = m;
  for (const event of result.events) {
    if (event.outcome !== 'ok') continue;
    for (const [name, m] of Object.entries(event.metrics)) flat[`${event.label}/${name}`] = m;
    if (event.acknowledgedAtMs !== undefined) flat[`${event.label}/ack_ms`] = { value: event.acknowledgedAtMs - event.requestedAtMs, unit: 'ms' };
  }
  return flat;
}

/**
 * One result for a cell run `runs.length` times. All alike → that outcome; some passed and some
 * did not → `flaky`, with the rate and each other run's reason; none passed → the worst. The
 * suites, events, log and evidence are those of the first run that did not pass (what explains a
 * red cell), else of the last run.
 */
export function combineRuns(cell: Cell, runs: CellResult[]): CellResult {
  const outcomes = runs.map((r) => r.outcome);
  const passed = outcomes.filter((o) => o === 'passed').length;
  // Runs cut short by Ctrl+C say nothing about flakiness.
  const counted = outcomes.filter((o) => o !== 'interrupted' && o !== 'skipped');
  let outcome: Outcome;
  if (outcomes.every((o) => o === outcomes[0])) outcome = outcomes[0]!;
  else if (passed > 0 && counted.some((o) => o !== 'passed')) outcome = 'flaky';
  else outcome = worstOutcome(outcomes);
  const detailsIndex = Math.max(0, runs.findIndex((r) => r.outcome !== 'passed' && r.outcome !== 'skipped'));
  const details = runs.findIndex((r) => r.outcome !== 'passed') >= 0 ? runs[detailsIndex]! : runs.at(-1)!;
  const series = new Map<string, { unit: Metric['unit']; values: number[] }>();
  for (const run of runs) {
    if (run.outcome === 'skipped') continue;
    for (const [name, m] of Object.entries(flattenMetrics(run))) {
      const entry = series.get(name) ?? { unit: m.unit, values: [] };
      entry.values.push(m.value);
      series.set(name, entry);
    }
  }
  const repeats: RepeatSummary = {
    runs: runs.map((r) => ({ outcome: r.outcome, ...(r.reason ? { reason: r.reason } : {}), durationMs: r.durationMs })),
    passed,
    total: runs.length,
    passRate: runs.length > 0 ? passed / runs.length : 0,
    metrics: Object.fromEntries([...series.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, s]) => [name, metricStats(s.values, s.unit)])),
    detailsFrom: runs.indexOf(details) + 1,
  };
  const reason =
    outcome === 'flaky'
      ? `passed ${passed} of ${runs.length} runs (${Math.round(repeats.passRate * 100)}%); ${runs
          .map((r, i) => (r.outcome === 'passed' ? '' : `run ${i + 1} ${r.outcome}${r.reason ? `: ${r.reason}` : ''}`))
          .filter(Boolean)
          .join('; ')}`
      : details.reason;
  return {
    ...details,
    outcome,
    ...(reason ? { reason } : {}),
    attempts: runs.flatMap((r) => r.attempts),
    startedAt: runs[0]!.startedAt,
    durationMs: runs.reduce((sum, r) => sum + r.durationMs, 0),
    repeats,
    id: cell.id,
  };
}

/** Attach the cell's quarantine entry, expired once the day it names has ended (UTC). */
export function withQuarantine(cell: Cell, result: CellResult, now: Date = new Date()): CellResult {
  if (!cell.quarantine) return result;
  const end = Date.parse(`${cell.quarantine.expires}T23:59:59.999Z`);
  return { ...result, quarantine: { ...cell.quarantine, expired: !(now.getTime() <= end) } };
}
