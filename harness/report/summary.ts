import type { Metric } from '../model/metrics.js';
import { OUTCOMES, type Outcome } from '../model/outcome.js';
import type { CellResult } from '../model/result.js';
import type { CellSummary } from './cell-summary.js';

export { OUTCOMES };

export function countOutcomes(cells: readonly Pick<CellSummary, 'outcome'>[]): Record<Outcome, number> {
  const counts = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  for (const cell of cells) if (cell.outcome in counts) counts[cell.outcome]++;
  return counts;
}

/** Planned cells without a result: the run was interrupted, or a shard is missing from a merge. */
export function notRun(record: { cells: readonly Pick<CellSummary, 'id'>[]; cellIds: readonly string[] }): string[] {
  const have = new Set(record.cells.map((c) => c.id));
  return record.cellIds.filter((id) => !have.has(id));
}

/** "1.23 s", "45 ms", "12 MiB": a metric for a person. */
export function metricValue(metric: Metric | undefined): string {
  if (!metric) return '';
  if (metric.unit === 'ms') return metric.value >= 1000 ? `${(metric.value / 1000).toFixed(2)} s` : `${metric.value.toFixed(metric.value < 10 ? 1 : 0)} ms`;
  if (metric.unit === 'bool') return metric.value ? 'yes' : 'no';
  if (metric.unit === 'bytes' || metric.unit === 'bytes/s') return `${bytes(metric.value)}${metric.unit === 'bytes/s' ? '/s' : ''}`;
  return `${Number.isInteger(metric.value) ? metric.value : metric.value.toFixed(2)} ${metric.unit}`;
}

function bytes(value: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (Math.abs(value) >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${i === 0 ? value : value.toFixed(1)} ${units[i]}`;
}

/**
 * The migration downtime of a cell as "QEMU / heartbeat", plus " / client" where a host-side prober
 * measured it through a forwarded port (app.ports), or '' without a completed migration.
 */
export function migrationDowntime(cell: Pick<CellSummary, 'events'>): string {
  const migrations = cell.events.filter((e) => e.kind === 'migrate' && e.outcome === 'ok');
  return migrations
    .map((m) => `${metricValue(m.metrics.downtime_qemu_ms) || '?'} / ${metricValue(m.metrics.downtime_heartbeat_ms) || '?'}${m.metrics.downtime_client_ms ? ` / ${metricValue(m.metrics.downtime_client_ms)}` : ''}`)
    .join(', ');
}

/** What migrationDowntime's figures are: "QEMU / heartbeat", with " / client" when measured. */
export function migrationDowntimeLabel(cells: readonly Pick<CellSummary, 'events'>[]): string {
  const client = cells.some((c) => c.events.some((e) => e.kind === 'migrate' && e.metrics.downtime_client_ms));
  return `migration downtime (QEMU / heartbeat${client ? ' / client' : ''})`;
}

/**
 * Whether hardware cycles / instructions perf events work: from the facts when probed there,
 * otherwise from the `pmu` suite's metrics (the runner leaves facts.pmu unset when a suite probes).
 */
export function pmuOf(cell: Pick<CellResult, 'facts' | 'suites'>): { cycles: boolean; instructions: boolean } | undefined {
  if (cell.facts?.pmu) return cell.facts.pmu;
  for (const suite of cell.suites) {
    const cycles = suite.metrics.cycles_available;
    const instructions = suite.metrics.instructions_available;
    if (cycles && instructions) return { cycles: cycles.value > 0, instructions: instructions.value > 0 };
  }
  return undefined;
}
