import type { Metric } from '../model/metrics.js';
import { OUTCOMES, type Outcome } from '../model/outcome.js';
import type { CellResult } from '../model/result.js';

export { OUTCOMES };

export function countOutcomes(cells: CellResult[]): Record<Outcome, number> {
  const counts = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  for (const cell of cells) counts[cell.outcome]++;
  return counts;
}

/** "1.23 s", "45 ms", "12 MiB": a metric for a person. */
export function metricValue(metric: Metric | undefined): string {
  if (!metric) return '';
  if (metric.unit === 'ms') return metric.value >= 1000 ? `${(metric.value / 1000).toFixed(2)} s` : `${metric.value.toFixed(metric.value < 10 ? 1 : 0)} ms`;
  if (metric.unit === 'bool') return metric.value ? 'yes' : 'no';
  return `${Number.isInteger(metric.value) ? metric.value : metric.value.toFixed(2)} ${metric.unit}`;
}
