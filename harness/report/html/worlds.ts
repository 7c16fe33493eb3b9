import { median } from 'simple-statistics';
import type { CellResult } from '../../model/result.js';
import type { MachineFacts } from '../../model/facts.js';
import { metricValue, pmuOf } from '../summary.js';
import { esc } from './escape.js';

const PHYSICAL = new Set(['local', 'ssh']);
const PMU = [false, true].flatMap((cycles) => [false, true].map((instructions) => Object.freeze({ cycles, instructions })));

interface World {
  label: string;
  physical: boolean;
  /** The facts of the world's first cell, and of its first passed one (which speaks for the world when there is one). */
  first: ShownFacts;
  passed?: ShownFacts;
  /** The first PMU answer among its cells. */
  pmu?: { cycles: boolean; instructions: boolean };
  /** Per ms metric, the values of its passed cells: what the medians need. */
  timings: Map<string, number[]>;
  /** Outcome counts, in the order first seen. */
  outcomes: Map<string, number>;
}

type WorldSource = Pick<CellResult, 'id' | 'backend' | 'axes' | 'accel' | 'facts' | 'outcome' | 'metrics' | 'suites'>;

/** The facts the table shows (not the free memory, which differs in every cell of a host). */
type ShownFacts = Pick<MachineFacts, 'cpuModelName' | 'cpuFlags' | 'clocksource' | 'availableClocksources' | 'onlineCpus' | 'presentCpus' | 'memTotalKiB' | 'kernelRelease'>;

/**
 * The worlds of a run, gathered a cell at a time, keeping only what the table shows. Physical cells
 * each make a world; virtual cells are grouped by backend and CPU model, so a large matrix stays a
 * few columns. Equal facts are kept once: a local run's cells, a world each, all share the host's.
 */
export class WorldsTally {
  private readonly worlds = new Map<string, World>();
  private readonly timingNames = new Set<string>();
  private readonly shared = new Map<string, ShownFacts>();
  /** False when the run's backends cannot make the table (not physical and virtual both). */
  private readonly possible: boolean;

  /** `backends`: those of the run's cells, when known before they stream past. */
  constructor(backends?: Iterable<string>) {
    const kinds = backends ? [...backends].map((b) => PHYSICAL.has(b)) : [true, false];
    // A local run made a world per cell (~0.6 KB each) for a table that is never shown.
    this.possible = kinds.includes(true) && kinds.includes(false);
  }

  add(cell: WorldSource): void {
    if (!cell.facts || !this.possible) return;
    const physical = PHYSICAL.has(cell.backend);
    const label = physical ? `${cell.backend}: ${cell.id}` : `${cell.backend} ${String(cell.axes.cpu ?? cell.facts.cpuModelName)}${cell.accel ? ` (${cell.accel})` : ''}`;
    let world = this.worlds.get(label);
    if (!world) this.worlds.set(label, (world = { label, physical, first: this.keep(cell.facts), timings: new Map(), outcomes: new Map() }));
    const passed = cell.outcome === 'passed';
    if (passed && !world.passed) world.passed = world.outcomes.size === 0 ? world.first : this.keep(cell.facts);
    if (!world.pmu) {
      const pmu = pmuOf(cell);
      // Four possible answers, shared: not the cell's object (and its detail text) per world.
      if (pmu) world.pmu = PMU[Number(pmu.cycles) * 2 + Number(pmu.instructions)];
    }
    for (const [name, m] of Object.entries(cell.metrics)) {
      if (m.unit !== 'ms') continue;
      this.timingNames.add(name);
      if (passed) (world.timings.get(name) ?? world.timings.set(name, []).get(name)!).push(m.value);
    }
    world.outcomes.set(cell.outcome, (world.outcomes.get(cell.outcome) ?? 0) + 1);
  }

  render(): string | undefined {
    return renderTally([...this.worlds.values()].sort((a, b) => Number(b.physical) - Number(a.physical)), [...this.timingNames].sort());
  }

  private keep(facts: MachineFacts): ShownFacts {
    const { cpuModelName, cpuFlags, clocksource, availableClocksources, onlineCpus, presentCpus, memTotalKiB, kernelRelease } = facts;
    const shown = { cpuModelName, cpuFlags, clocksource, availableClocksources, onlineCpus, presentCpus, memTotalKiB, kernelRelease };
    const key = JSON.stringify(shown);
    const known = this.shared.get(key);
    if (known) return known;
    if (this.shared.size < 1_000) this.shared.set(key, shown);
    return shown;
  }
}

/**
 * Physical vs virtual: one row per fact, one column per world (each physical host, then each
 * virtual CPU model). Cells that differ from the first physical column are highlighted: this is
 * the vendor-certification view, "what differs for my app on a VM".
 */
export function renderWorlds(cells: readonly WorldSource[]): string | undefined {
  const tally = new WorldsTally();
  for (const cell of cells) tally.add(cell);
  return tally.render();
}

function renderTally(worlds: World[], timingNames: string[]): string | undefined {
  const reference = worlds.find((w) => w.physical);
  if (!reference || !worlds.some((w) => !w.physical)) return undefined;
  const facts = (w: World) => w.passed ?? w.first;
  const refFlags = new Set(facts(reference).cpuFlags);
  const timing = (name: string) => (w: World) => {
    const values = w.timings.get(name) ?? [];
    if (values.length === 0) return '—';
    return `${metricValue({ value: median(values), unit: 'ms' })}${values.length > 1 ? ` (median of ${values.length})` : ''}`;
  };
  const rows: Array<[string, (w: World) => string, boolean]> = [
    ['CPU model', (w) => facts(w).cpuModelName, false],
    ['flags missing vs physical', (w) => [...refFlags].filter((f) => !facts(w).cpuFlags.includes(f)).join(' ') || 'none', true],
    ['flags added vs physical', (w) => facts(w).cpuFlags.filter((f) => !refFlags.has(f)).join(' ') || 'none', true],
    ['clocksource', (w) => facts(w).clocksource, true],
    ['available clocksources', (w) => facts(w).availableClocksources.join(', '), true],
    ['PMU cycles / instructions', (w) => (w.pmu ? `${w.pmu.cycles ? 'yes' : 'no'} / ${w.pmu.instructions ? 'yes' : 'no'}` : 'not probed'), true],
    ['online / present CPUs', (w) => `${facts(w).onlineCpus} / ${facts(w).presentCpus}`, true],
    ['MemTotal', (w) => `${Math.round(facts(w).memTotalKiB / 1024)} MiB`, true],
    ['kernel', (w) => facts(w).kernelRelease, true],
    ...timingNames.map((name): [string, (w: World) => string, boolean] => [name.replace(/_ms$/, '').replace(/_/g, ' '), timing(name), false]),
    ['outcomes', (w) => [...w.outcomes].map(([v, n]) => `${n} ${v}`).join(', '), false],
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
