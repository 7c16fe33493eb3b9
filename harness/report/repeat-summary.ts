import type { MetricStats } from '../model/result.js';
import type { CellSummary } from './cell-summary.js';
import { metricValue } from './summary.js';

/** The figures a summary shows for a repeated cell: downtime, plug and other event latencies, boot. */
const KEY_METRIC = /(^|\/)(downtime_[a-z]+_ms|ack_ms|boot_ms|restore_ms|app_ready_ms)$/;

export interface RepeatRow {
  cell: CellSummary;
  /** "3 of 5 (60%)" */
  rate: string;
  metrics: Array<{ name: string; stats: MetricStats }>;
}

/** Repeated cells with their pass rate and key metrics (all metrics with `all`). */
export function repeatRows(cells: readonly CellSummary[], options: { all?: boolean } = {}): RepeatRow[] {
  return cells
    .filter((c) => c.repeats)
    .map((cell) => {
      const r = cell.repeats!;
      return {
        cell,
        rate: `${r.passed} of ${r.total} (${Math.round(r.passRate * 100)}%)`,
        metrics: Object.entries(r.metrics)
          .filter(([name]) => options.all || KEY_METRIC.test(name))
          .map(([name, stats]) => ({ name, stats })),
      };
    });
}

/** "12 ms / 30 ms / 41 ms" for p50 / p95 / p99, and "[10 ms, 20 ms]" for the interval. */
export function percentiles(stats: MetricStats): string {
  return [stats.p50, stats.p95, stats.p99].map((v) => metricValue({ value: v, unit: stats.unit })).join(' / ');
}

export function interval(stats: MetricStats): string {
  return `[${metricValue({ value: stats.ci95[0], unit: stats.unit })}, ${metricValue({ value: stats.ci95[1], unit: stats.unit })}]`;
}

/** A quarantined cell says so wherever its outcome is shown. */
export function quarantineNote(cell: Pick<CellSummary, 'quarantine'>): string {
  const q = cell.quarantine;
  if (!q) return '';
  return q.expired ? `quarantine expired ${q.expires} (${q.reason}): fails the run` : `quarantined until ${q.expires} (${q.reason}): does not fail the run`;
}
