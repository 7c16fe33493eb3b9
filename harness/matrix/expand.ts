import { compileExpression } from 'filtrex';
import type { AxisValue, Cell, HostRef, QuarantineEntry } from '../model/cell.js';
import { DEFAULT_MACHINE, type Backend, type MachineSpec } from '../model/machine-spec.js';
import { cellId } from './cell-id.js';
import { checkCell, LackReport } from './check-cells.js';
import { cellSource, type CellSource } from './cell-source.js';
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

export interface LazyExpansion extends Omit<Expansion, 'cells'> {
  /** The cells, made again on each iteration (checked once, here). */
  source: CellSource;
}

/**
 * Cartesian product → exclude (GitHub Actions: a partial match drops) → constraints → pairwise →
 * include (GitHub Actions: extend every combination it does not contradict on an original axis,
 * else add a new combination). Defaults fill axes that are not listed.
 */
export function expandMatrix(file: MatrixFile, options: { pairwise?: boolean; collectDropped?: boolean } = {}): Expansion {
  const cells: Cell[] = [];
  const { dropped, totalCombinations } = expandWith(file, options, (cell) => cells.push(cell));
  return { cells, dropped, totalCombinations };
}

/**
 * The same cells as `expandMatrix`, made as they are consumed: one pass here counts and checks
 * them (a scenario step a cell's machine cannot do names its file:line:column before any VM), and
 * each iteration of `source` walks the product again. Only a pairwise cover is held (it needs all
 * combinations at once; it is small by design).
 */
export function expandMatrixLazily(file: MatrixFile, options: { pairwise?: boolean; collectDropped?: boolean } = {}): LazyExpansion {
  return expandWith(file, options);
}

/** The first pass, which gives each cell it keeps to `onCell` (expandMatrix's list). */
function expandWith(file: MatrixFile, options: { pairwise?: boolean; collectDropped?: boolean }, onCell?: (cell: Cell) => void): LazyExpansion {
  const collect = options.collectDropped ?? true;
  const dropped: Expansion['dropped'] = [];
  let total = 0;
  const kept = keptCombinations(file, options.pairwise ?? file.doc.pairwise, {
    combination: () => void total++,
    drop: (axes, rule) => void (collect && dropped.push({ axes, rule })),
  });
  // Across iterations too.
  const machines = new MachineCache(file);
  const duplicates = new Set<number>();
  const seen = new Set<string>();
  const lacks = new LackReport();
  let size = 0;
  let position = 0;
  for (const cell of cellsOf(file, kept.first, machines)) {
    if (seen.has(cell.id)) duplicates.add(position);
    else {
      seen.add(cell.id);
      checkCell(file, cell, lacks);
      onCell?.(cell);
      size++;
    }
    position++;
  }
  const issues = lacks.issues(file);
  if (issues.length > 0) throw new MatrixError(issues.sort((a, b) => a.line - b.line || a.column - b.column));
  const source = cellSource(function* () {
    let at = 0;
    for (const cell of cellsOf(file, kept.again(), machines)) if (!duplicates.has(at++)) yield cell;
  }, size);
  return { source, dropped, totalCombinations: total };
}

interface CombinationWatch {
  combination(): void;
  drop(axes: Combination, rule: string): void;
}

/** The combinations that become cells: `first` reports every combination and drop to `watch`; `again` walks them anew. */
function keptCombinations(file: MatrixFile, pairwise: boolean, watch: CombinationWatch): { first: Iterable<Combination>; again: () => Iterable<Combination> } {
  const { doc } = file;
  const constraints = doc.constraints.map((text, i) => ({ text, index: i, test: compileExpression(text) }));
  const failedConstraint = (c: Combination): string | undefined => {
    for (const constraint of constraints) {
      const verdict: unknown = constraint.test(flat(doc.defaults, c));
      if (verdict instanceof Error) {
        throw new MatrixError([{ file: file.path, line: 1, column: 1, path: `constraints[${constraint.index}]`, message: `constraint "${constraint.text}": ${verdict.message}` }]);
      }
      if (!verdict) return `constraint "${constraint.text}"`;
    }
    return undefined;
  };
  function* filtered(watching?: CombinationWatch): Generator<Combination> {
    for (const combination of cartesian(doc.axes)) {
      watching?.combination();
      const excludedBy = doc.exclude.findIndex((pattern) => matches(combination, pattern));
      const rule = excludedBy >= 0 ? `exclude[${excludedBy}]` : failedConstraint(combination);
      if (rule) watching?.drop(combination, rule);
      else yield combination;
    }
  }
  if (pairwise) {
    const all = [...filtered(watch)];
    const cover = new Set(pairwiseCover(all, Object.keys(doc.axes)));
    for (const c of all) if (!cover.has(c)) watch.drop(c, 'pairwise');
    const covered = all.filter((c) => cover.has(c));
    return { first: withIncludes(doc, covered), again: () => withIncludes(doc, covered) };
  }
  return { first: withIncludes(doc, filtered(watch)), again: () => withIncludes(doc, filtered()) };
}

/**
 * Each include entry extends every combination it does not contradict on an original axis; an
 * entry that extends none is a combination of its own, after them (and later entries extend it).
 */
function* withIncludes(doc: MatrixFile['doc'], kept: Iterable<Combination>): Generator<Combination> {
  if (doc.include.length === 0) {
    yield* kept;
    return;
  }
  const originalAxes = new Set(Object.keys(doc.axes));
  const contradicts = (base: Combination, entry: Combination): boolean => Object.entries(entry).some(([key, value]) => originalAxes.has(key) && base[key] !== value);
  const extended = doc.include.map(() => false);
  for (const base of kept) {
    let combination = base;
    doc.include.forEach((entry, e) => {
      if (contradicts(base, entry)) return;
      combination = { ...combination, ...entry };
      extended[e] = true;
    });
    yield combination;
  }
  const added: Array<{ base: Combination; combination: Combination }> = [];
  doc.include.forEach((entry, e) => {
    for (const item of added) {
      if (contradicts(item.base, entry)) continue;
      item.combination = { ...item.combination, ...entry };
      extended[e] = true;
    }
    if (!extended[e]) added.push({ base: entry, combination: { ...entry } });
  });
  for (const item of added) yield item.combination;
}

/** A cell per combination (duplicates included: the caller skips them). */
function* cellsOf(file: MatrixFile, combinations: Iterable<Combination>, machines: MachineCache): Generator<Cell> {
  for (const combination of combinations) {
    const axes = flat<Record<string, AxisValue>>(file.doc.defaults, combination);
    yield toCell(file, axes, flatText(cellId(axes)), machines.for(axes));
  }
}

/** The axes a cell's machine is made from: cells equal on these share one machine object. */
const MACHINE_AXES = ['cpu', 'vcpus', 'maxvcpus', 'memory', 'maxmem', 'slots', 'machine', 'accel', 'balloon', 'network', 'image'] as const;
/** What machineOf may read: an axis it used without being listed above would be a type error, not machines wrongly shared. */
type MachineAxes = Partial<Record<(typeof MACHINE_AXES)[number], AxisValue>>;

/** Cells of one configuration share one (never mutated) MachineSpec, made once: a 10,000-cell list held a copy per cell. */
class MachineCache {
  private readonly machines = new Map<string, MachineSpec>();

  constructor(private readonly file: MatrixFile) {}

  for(axes: Record<string, AxisValue>): MachineSpec {
    let key = '';
    for (const name of MACHINE_AXES) key += `${typeof axes[name]}:${String(axes[name])}\u0000`;
    let machine = this.machines.get(key);
    if (!machine) this.machines.set(key, (machine = machineOf(this.file, axes)));
    return machine;
  }
}

function machineOf(file: MatrixFile, axes: MachineAxes): MachineSpec {
  const vcpus = Number(axes.vcpus ?? DEFAULT_MACHINE.vcpus);
  return flat(DEFAULT_MACHINE, {
    cpuModel: String(axes.cpu ?? DEFAULT_MACHINE.cpuModel),
    vcpus,
    maxVcpus: Math.max(vcpus, Number(axes.maxvcpus ?? vcpus)),
    memoryMiB: axes.memory !== undefined ? parseSizeMiB(axes.memory as string | number) : DEFAULT_MACHINE.memoryMiB,
    ...(axes.maxmem !== undefined ? { maxMemoryMiB: parseSizeMiB(axes.maxmem as string | number), memorySlots: Number(axes.slots ?? 4) } : {}),
    machineType: String(axes.machine ?? DEFAULT_MACHINE.machineType),
    accel: (axes.accel as MachineSpec['accel'] | undefined) ?? 'auto',
    balloon: axes.balloon === undefined ? true : Boolean(axes.balloon),
    ...(axes.network !== undefined ? { network: String(axes.network) as MachineSpec['network'] } : {}),
    image: imageRefFor(axes.image, dirname(file.path), file.doc.app.packages),
  });
}

function toCell(file: MatrixFile, axes: Record<string, AxisValue>, id: string, machine: MachineSpec): Cell {
  const { doc } = file;
  const backend = String(axes.backend ?? 'qemu') as Backend;
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
