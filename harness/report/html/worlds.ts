import type { CellResult } from '../../model/result.js';
import { metricValue } from '../summary.js';
import { esc } from './escape.js';

const PHYSICAL = new Set(['local', 'ssh']);

/**
 * Physical vs virtual: for the same application and suites, one column per world. This is the
 * vendor-certification view: what differs for my app on a VM.
 */
export function renderWorlds(cells: CellResult[]): string | undefined {
  const physical = cells.filter((c) => PHYSICAL.has(c.backend) && c.facts);
  const virtual = cells.filter((c) => !PHYSICAL.has(c.backend) && c.facts);
  if (physical.length === 0 || virtual.length === 0) return undefined;
  const reference = physical[0]!;
  const columns = [...physical, ...virtual];
  const refFlags = new Set(reference.facts!.cpuFlags);
  const rows: Array<[string, (c: CellResult) => string]> = [
    ['world', (c) => (PHYSICAL.has(c.backend) ? `physical (${c.backend})` : `virtual (${c.backend}, ${c.accel ?? '?'})`)],
    ['CPU model', (c) => c.facts!.cpuModelName],
    ['flags missing vs physical', (c) => c.facts!.cpuFlags.length === 0 ? '' : [...refFlags].filter((f) => !c.facts!.cpuFlags.includes(f)).join(' ') || 'none'],
    ['flags added vs physical', (c) => c.facts!.cpuFlags.filter((f) => !refFlags.has(f)).join(' ') || 'none'],
    ['clocksource', (c) => `${c.facts!.clocksource} (of ${c.facts!.availableClocksources.join(', ')})`],
    ['PMU cycles / instructions', (c) => (c.facts!.pmu ? `${c.facts!.pmu.cycles ? 'yes' : 'no'} / ${c.facts!.pmu.instructions ? 'yes' : 'no'}` : 'not probed')],
    ['online CPUs', (c) => String(c.facts!.onlineCpus)],
    ['MemTotal', (c) => `${Math.round(c.facts!.memTotalKiB / 1024)} MiB`],
    ['start (boot / connect)', (c) => metricValue(c.metrics.boot_ms) || '—'],
    ['app ready', (c) => metricValue(c.metrics.app_ready_ms) || '—'],
    ['app run time', (c) => metricValue(c.metrics.app_ms) || '—'],
    ['outcome', (c) => `${c.outcome}${c.reason ? `: ${c.reason}` : ''}`],
  ];
  const head = `<tr><th></th>${columns.map((c) => `<th>${esc(c.id)}</th>`).join('')}</tr>`;
  const body = rows.map(([label, value]) => `<tr><th>${esc(label)}</th>${columns.map((c) => `<td>${esc(value(c))}</td>`).join('')}</tr>`).join('');
  return `<table>${head}${body}</table>`;
}
