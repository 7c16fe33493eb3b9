import { compileExpression } from 'filtrex';
import type { AxisValue, Cell, HostRef, QuarantineEntry } from '../model/cell.js';
import { DEFAULT_MACHINE, type Backend, type MachineSpec } from '../model/machine-spec.js';
import { cellId } from './cell-id.js';
import { checkCells } from './check-cells.js';
import { MatrixError } from './errors.js';
import type { MatrixFile } from './load.js';
import { pairwiseCover, type Combination } from './pairwise.js';
import { parseSizeMiB } from './units.js';
import { imageRefFor } from './check-image.js';
import { dirname } from 'node:path';
import { globToRegExp } from './select.js';

export interface Expansion {
  cells: Cell[];
  /** Every combination that did not become a cell, and the rule that dropped it. */
  dropped: Array<{ axes: Record<string, AxisValue>; rule: string }>;
  totalCombinations: number;
}

/** Lazily walk the cartesian product (10^6 combinations are never materialised at once). */
export function* cartesian(axes: Record<string, AxisValue[]>): Generator<Combination> {
  const names = Object.keys(axes);
  if (names.length === 0) {
    yield {};
    return;
  }
  const index = new Array<number>(names.length).fill(0);
  for (;;) {
    const combination: Combination = {};
    for (let i = 0; i < names.length; i++) combination[names[i]!] = axes[names[i]!]![index[i]!]!;
    yield combination;
    let k = names.length - 1;
    while (k >= 0) {
      index[k]!++;
      if (index[k]! < axes[names[k]!]!.length) break;
      index[k] = 0;
      k--;
    }
    if (k < 0) return;
  }
}

const matches = (combination: Combination, pattern: Combination): boolean =>
  Object.entries(pattern).every(([key, value]) => combination[key] === value);

/**
 * Cartesian product → exclude (GitHub Actions: a partial match drops) → constraints → pairwise →
 * include (GitHub Actions: extend every combination it does not contradict on an original axis,
 * else add a new combination). Defaults fill axes that are not listed.
 */
export function expandMatrix(file: MatrixFile, options: { pairwise?: boolean; collectDropped?: boolean } = {}): Expansion {
  const { doc } = file;
  const collect = options.collectDropped ?? true;
  const constraints = doc.constraints.map((text, i) => ({ text, index: i, test: compileExpression(text) }));
  const dropped: Expansion['dropped'] = [];
  const withDefaults = (c: Combination): Combination => flat(doc.defaults, c);
  const failedConstraint = (c: Combination): string | undefined => {
    for (const constraint of constraints) {
      const verdict: unknown = constraint.test(withDefaults(c));
      if (verdict instanceof Error) {
        throw new MatrixError([{ file: file.path, line: 1, column: 1, path: `constraints[${constraint.index}]`, message: `constraint "${constraint.text}": ${verdict.message}` }]);
      }
      if (!verdict) return `constraint "${constraint.text}"`;
    }
    return undefined;
  };
  let total = 0;
  let kept: Combination[] = [];
  for (const combination of cartesian(doc.axes)) {
    total++;
    const excludedBy = doc.exclude.findIndex((pattern) => matches(combination, pattern));
    const rule = excludedBy >= 0 ? `exclude[${excludedBy}]` : failedConstraint(combination);
    if (rule) {
      if (collect) dropped.push({ axes: combination, rule });
    } else kept.push(combination);
  }
  if (options.pairwise ?? doc.pairwise) {
    const cover = new Set(pairwiseCover(kept, Object.keys(doc.axes)));
    if (collect) for (const c of kept) if (!cover.has(c)) dropped.push({ axes: c, rule: 'pairwise' });
    kept = kept.filter((c) => cover.has(c));
  }
  const originalAxes = new Set(Object.keys(doc.axes));
  const base = kept.map((c) => ({ ...c }));
  doc.include.forEach((entry) => {
    let extended = false;
    for (let i = 0; i < kept.length; i++) {
      const contradicts = Object.entries(entry).some(([key, value]) => originalAxes.has(key) && base[i]![key] !== value);
      if (!contradicts) {
        kept[i] = { ...kept[i], ...entry };
        extended = true;
      }
    }
    if (!extended) kept.push({ ...entry });
  });
  const seen = new Set<string>();
  const cells: Cell[] = [];
  // Cells of one configuration share one (never mutated) MachineSpec: a 10,000-cell list held a copy per cell.
  const machines = new Map<string, MachineSpec>();
  for (const combination of kept) {
    const axes = withDefaults(combination);
    const id = flatText(cellId(axes));
    if (seen.has(id)) continue;
    seen.add(id);
    const cell = toCell(file, axes, id);
    const key = JSON.stringify(cell.machine);
    const machine = machines.get(key);
    if (machine) cell.machine = machine;
    else machines.set(key, cell.machine);
    cells.push(cell);
  }
  // Before any VM: a scenario step a cell's machine cannot do names its file:line:column.
  const issues = checkCells(file, cells);
  if (issues.length > 0) throw new MatrixError(issues.sort((a, b) => a.line - b.line || a.column - b.column));
  return { cells, dropped, totalCombinations: total };
}

function toCell(file: MatrixFile, axes: Record<string, AxisValue>, id: string): Cell {
  const { doc } = file;
  const backend = String(axes.backend ?? 'qemu') as Backend;
  const vcpus = Number(axes.vcpus ?? DEFAULT_MACHINE.vcpus);
  const machine: MachineSpec = flat(DEFAULT_MACHINE, {
    cpuModel: String(axes.cpu ?? DEFAULT_MACHINE.cpuModel),
    vcpus,
    maxVcpus: Math.max(vcpus, Number(axes.maxvcpus ?? vcpus)),
    memoryMiB: axes.memory !== undefined ? parseSizeMiB(axes.memory as string | number) : DEFAULT_MACHINE.memoryMiB,
    ...(axes.maxmem !== undefined ? { maxMemoryMiB: parseSizeMiB(axes.maxmem as string | number), memorySlots: Number(axes.slots ?? 4) } : {}),
    machineType: String(axes.machine ?? DEFAULT_MACHINE.machineType),
    accel: (axes.accel as MachineSpec['accel'] | undefined) ?? 'auto',
    balloon: axes.balloon === undefined ? true : Boolean(axes.balloon),
    ...(axes.network !== undefined ? { network: String(axes.network) as MachineSpec['network'] } : {}),
    image: imageRefFor(axes.image, dirname(file.path), doc.app.packages),
  });
  const scenario = String(axes.events ?? 'none');
  const host = axes.host !== undefined ? pickHost(doc.hosts, String(axes.host)) : undefined;
  // Every cell runs the matrix's app as it is: one shared (never mutated) object; its user axes'
  // BW_AXIS_ variables are built from the cell's axes where the app is started (appEnv).
  const app = doc.app;
  const events = doc.scenarios[scenario] ?? [];
  const quarantine = quarantineFor(doc.quarantine, id);
  // A literal without spreads in the common case: its properties are in-object, no property array per cell.
  if (!host && !doc.evidence && !(doc.repeat > 1) && !quarantine.quarantine && !doc.artifacts) {
    return { id, axes, backend, machine, app, suites: doc.suites, events, timeoutMs: doc.timeoutMs, retries: doc.retries };
  }
  return {
    id,
    axes,
    backend,
    machine,
    app,
    suites: doc.suites,
    events,
    ...(host ? { host } : {}),
    timeoutMs: doc.timeoutMs,
    retries: doc.retries,
    ...(doc.evidence ? { evidence: doc.evidence } : {}),
    ...(doc.repeat > 1 ? { repeat: doc.repeat } : {}),
    ...quarantine,
    ...(doc.artifacts ? { artifacts: doc.artifacts } : {}),
  };
}

/**
 * A merged copy, as `{ ...a, ...b }`. Node 20's V8 gives each object spread from a hot call site
 * a hidden class of its own (~0.25 KB of maps and descriptors each, kept while the object lives);
 * Object.assign onto `{}` shares one. Measured: 9,991 of 10,000 cells' axes had distinct maps.
 */
function flat<T extends object>(...parts: Array<Partial<T>>): T {
  return Object.assign({}, ...parts) as T;
}

/**
 * The same text as one flat string. An id built as `${readable}-${digest}` is a tree of two
 * concatenations over its parts, ~150 bytes held per cell for ~50 bytes of text.
 */
function flatText(text: string): string {
  return JSON.parse(JSON.stringify(text)) as string;
}

function pickHost(hosts: HostRef[], selector: string): HostRef | undefined {
  return hosts.find((h) => h.name === selector) ?? hosts.find((h) => h.labels.includes(selector));
}

/** The first quarantine entry whose pattern matches the cell id. */
function quarantineFor(entries: QuarantineEntry[], id: string): { quarantine?: QuarantineEntry } {
  const entry = entries.find((e) => globToRegExp(e.cells).test(id));
  return entry ? { quarantine: entry } : {};
}
