import { median } from 'simple-statistics';
import type { CellResult } from '../../model/result.js';
import { metricValue, pmuOf } from '../summary.js';
import { esc } from './escape.js';

const PHYSICAL = new Set(['local', 'ssh']);

interface World {
  label: string;
  physical: boolean;
  /** Cells of this world with facts; the first passed one speaks for the facts. */
  cells: CellResult[];
}

/** Physical cells each make a world; virtual cells are grouped by backend and CPU model, so a large matrix stays a few columns. */
function worldsOf(cells: CellResult[]): World[] {
  const worlds = new Map<string, World>();
  for (const cell of cells) {
    if (!cell.facts) continue;
    const physical = PHYSICAL.has(cell.backend);
    const label = physical ? `${cell.backend}: ${cell.id}` : `${cell.backend} ${String(cell.axes.cpu ?? cell.facts.cpuModelName)}${cell.accel ? ` (${cell.accel})` : ''}`;
    const world = worlds.get(label) ?? worlds.set(label, { label, physical, cells: [] }).get(label)!;
    world.cells.push(cell);
  }
  return [...worlds.values()].sort((a, b) => Number(b.physical) - Number(a.physical));
}

/**
 * Physical vs virtual: one row per fact, one column per world (each physical host, then each
 * virtual CPU model). Cells that differ from the first physical column are highlighted: this is
 * the vendor-certification view, "what differs for my app on a VM".
 */
export function renderWorlds(cells: CellResult[]): string | undefined {
  const worlds = worldsOf(cells);
  const reference = worlds.find((w) => w.physical);
  if (!reference || !worlds.some((w) => !w.physical)) return undefined;
  const facts = (w: World) => (w.cells.find((c) => c.outcome === 'passed') ?? w.cells[0]!).facts!;
  const refFlags = new Set(facts(reference).cpuFlags);
  const timingNames = [...new Set(worlds.flatMap((w) => w.cells.flatMap((c) => Object.entries(c.metrics).filter(([, m]) => m.unit === 'ms').map(([k]) => k))))].sort();
  const timing = (name: string) => (w: World) => {
    const values = w.cells.filter((c) => c.outcome === 'passed').map((c) => c.metrics[name]?.value).filter((v): v is number => v !== undefined);
    if (values.length === 0) return '—';
    return `${metricValue({ value: median(values), unit: 'ms' })}${values.length > 1 ? ` (median of ${values.length})` : ''}`;
  };
  const rows: Array<[string, (w: World) => string, boolean]> = [
    ['CPU model', (w) => facts(w).cpuModelName, false],
    ['flags missing vs physical', (w) => [...refFlags].filter((f) => !facts(w).cpuFlags.includes(f)).join(' ') || 'none', true],
    ['flags added vs physical', (w) => facts(w).cpuFlags.filter((f) => !refFlags.has(f)).join(' ') || 'none', true],
    ['clocksource', (w) => facts(w).clocksource, true],
    ['available clocksources', (w) => facts(w).availableClocksources.join(', '), true],
    ['PMU cycles / instructions', (w) => { const pmu = w.cells.map(pmuOf).find(Boolean); return pmu ? `${pmu.cycles ? 'yes' : 'no'} / ${pmu.instructions ? 'yes' : 'no'}` : 'not probed'; }, true],
    ['online / present CPUs', (w) => `${facts(w).onlineCpus} / ${facts(w).presentCpus}`, true],
    ['MemTotal', (w) => `${Math.round(facts(w).memTotalKiB / 1024)} MiB`, true],
    ['kernel', (w) => facts(w).kernelRelease, true],
    ...timingNames.map((name): [string, (w: World) => string, boolean] => [name.replace(/_ms$/, '').replace(/_/g, ' '), timing(name), false]),
    ['outcomes', (w) => tally(w.cells.map((c) => c.outcome)), false],
  ];
  const head = `<tr><th>fact</th>${worlds.map((w) => `<th>${w.physical ? 'physical' : 'virtual'}<br><span class="muted">${esc(w.label)}</span></th>`).join('')}</tr>`;
  const body = rows
    .map(([label, value, compare]) => {
      const ref = value(reference);
      const tds = worlds.map((w) => {
        const v = value(w);
        const differs = compare && w !== reference && (label.startsWith('flags') ? v !== 'none' : v !== ref);
        return `<td${differs ? ' class="differs"' : ''}>${esc(v)}</td>`;
      });
      return `<tr><th>${esc(label)}</th>${tds.join('')}</tr>`;
    })
    .join('');
  return `<div class="scroll"><table>${head}${body}</table></div>`;
}

/** "2 passed, 1 failed" */
function tally(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].map(([v, n]) => `${n} ${v}`).join(', ');
}
