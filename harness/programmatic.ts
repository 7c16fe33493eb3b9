import type { AppSpec, Cell, SuiteRef, TimelineEvent } from './model/cell.js';
import { DEFAULT_MACHINE, type Backend, type MachineSpec } from './model/machine-spec.js';
import type { CellResult } from './model/result.js';
import { ensureDefaultImage } from './images/default-image.js';
import { ensureTools } from './images/tools.js';
import { probeKvm } from './machines/qemu/accel.js';
import { resolveAppFiles } from './matrix/app-files.js';
import { rootScope } from './core/scope.js';
import { runCell } from './run/cell-runner.js';
import { createMachineFactory } from './run/start-machine.js';
import { loadSuitesForCell } from './run/suite-registry.js';
import { SnapshotPool } from './snapshots/pool.js';
import { cellId } from './matrix/cell-id.js';
import { sweepStaleTempDirs } from './core/temp-dir.js';
import { ConfigError } from './core/errors.js';
import { parseDuration, parseSizeMiB } from './matrix/units.js';
import { checkCellInput } from './run/check-cell-input.js';

/** The matrix's words for a machine (`cpu: Nehalem`, `memory: 384M`, `maxvcpus: 4`), beside the spec's own. */
export interface MachineInput extends Partial<MachineSpec> {
  /** As in a matrix: a QEMU CPU model. Same as cpuModel. */
  cpu?: string;
  /** As in a matrix: a size (384M, 1G) or MiB. Same as memoryMiB. */
  memory?: string | number;
  /** As in a matrix: the vCPU hot-plug ceiling. Same as maxVcpus. */
  maxvcpus?: number;
  /** As in a matrix: the memory hot-plug ceiling (a size). Same as maxMemoryMiB. */
  maxmem?: string | number;
}

/** The matrix's words for the application (`ready`, `timeout: 60s`), beside the spec's own. */
export type AppInput = Partial<Omit<AppSpec, 'timeoutMs' | 'readyPattern'>> & {
  command: string[];
  /** As in a matrix: a regular expression on the app's output that means "ready". */
  ready?: string;
  /** As in a matrix: 60s, 500ms, or milliseconds. */
  timeout?: string | number;
  /** @deprecated use `ready`, as a matrix does */
  readyPattern?: string;
  /** @deprecated use `timeout` (60s or milliseconds), as a matrix does */
  timeoutMs?: number;
};

export interface CellInput {
  backend?: Backend;
  machine?: MachineInput;
  app: AppInput;
  suites?: Array<string | SuiteRef>;
  events?: TimelineEvent[];
  axes?: Cell['axes'];
  /** As in a matrix: the whole cell's deadline (180s, 3m, or milliseconds). */
  timeout?: string | number;
  /** @deprecated use `timeout`, as a matrix does */
  timeoutMs?: number;
  retries?: number;
}

/** One value given under two names must agree: `ready` and `readyPattern` saying different things is a mistake. */
function either<T>(names: [string, string], matrixWord: T | undefined, specWord: T | undefined): T | undefined {
  if (matrixWord !== undefined && specWord !== undefined && matrixWord !== specWord) {
    throw new ConfigError('CELL_INPUT', `${names[0]} and ${names[1]} name the same thing and disagree (${String(matrixWord)} vs ${String(specWord)}): give one`);
  }
  return matrixWord ?? specWord;
}

/** A matrix-style value ("60s", "384M") parsed as the matrix parses it; a bad one names the input. */
function parsedAs(parse: (value: string | number) => number, name: string, value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parse(value);
  } catch (error) {
    throw new ConfigError('CELL_INPUT', `${name}: ${(error as Error).message}`);
  }
}

const asMs = (name: string, value: string | number | undefined) => parsedAs(parseDuration, name, value);
const asMiB = (name: string, value: string | number | undefined) => parsedAs(parseSizeMiB, name, value);

function machineOf(input: MachineInput = {}): Partial<MachineSpec> {
  const { cpu, memory, maxvcpus, maxmem, ...spec } = input;
  const out: Partial<MachineSpec> = { ...spec };
  const cpuModel = either(['machine.cpu', 'machine.cpuModel'], cpu, spec.cpuModel);
  const memoryMiB = either(['machine.memory', 'machine.memoryMiB'], asMiB('machine.memory', memory), spec.memoryMiB);
  const maxVcpus = either(['machine.maxvcpus', 'machine.maxVcpus'], maxvcpus, spec.maxVcpus);
  const maxMemoryMiB = either(['machine.maxmem', 'machine.maxMemoryMiB'], asMiB('machine.maxmem', maxmem), spec.maxMemoryMiB);
  if (cpuModel !== undefined) out.cpuModel = cpuModel;
  if (memoryMiB !== undefined) out.memoryMiB = memoryMiB;
  if (maxVcpus !== undefined) out.maxVcpus = maxVcpus;
  if (maxMemoryMiB !== undefined) out.maxMemoryMiB = maxMemoryMiB;
  return out;
}

function appOf(input: AppInput): Partial<AppSpec> & { command: string[] } {
  const { ready, timeout, readyPattern, timeoutMs, ...spec } = input;
  const pattern = either(['app.ready', 'app.readyPattern'], ready, readyPattern);
  const ms = either(['app.timeout', 'app.timeoutMs'], asMs('app.timeout', timeout), timeoutMs);
  return { ...spec, ...(pattern !== undefined ? { readyPattern: pattern } : {}), ...(ms !== undefined ? { timeoutMs: ms } : {}) };
}

/**
 * Build a fully resolved cell from the parts a test cares about; the rest gets the defaults a matrix
 * would. It takes the matrix's words (`ready`, `timeout: 60s`, `memory: 384M`, `cpu`, `maxvcpus`);
 * the spec's names (`readyPattern`, `timeoutMs`, `memoryMiB`, `cpuModel`, `maxVcpus`) still work.
 */
export function defineCell(input: CellInput): Cell {
  const given = machineOf(input.machine);
  const machine: MachineSpec = { ...DEFAULT_MACHINE, ...given };
  if (given.vcpus !== undefined && given.maxVcpus === undefined) machine.maxVcpus = Math.max(machine.vcpus, DEFAULT_MACHINE.maxVcpus);
  const backend = input.backend ?? 'qemu';
  const axes = input.axes ?? { backend, cpu: machine.cpuModel, vcpus: machine.vcpus, memory: machine.memoryMiB };
  return {
    id: cellId(axes),
    axes,
    backend,
    machine,
    app: { files: [], expectExit: 0, timeoutMs: 60_000, ...appOf(input.app) },
    suites: (input.suites ?? []).map((s) => (typeof s === 'string' ? { name: s, options: {} } : s)),
    events: input.events ?? [],
    timeoutMs: either(['timeout', 'timeoutMs'], asMs('timeout', input.timeout), input.timeoutMs) ?? 180_000,
    retries: input.retries ?? 0,
  };
}

/** An event `afterMs` after the application started. */
export function at(afterMs: number, kind: string, params: Record<string, unknown> = {}): TimelineEvent {
  return { kind, trigger: { kind: 'at', afterMs }, params };
}

/** An event when the application (or the console) prints a line matching `pattern`. */
export function onLine(pattern: string, kind: string, params: Record<string, unknown> = {}, source: 'app' | 'console' = 'app'): TimelineEvent {
  return { kind, trigger: { kind: 'line', pattern, source }, params };
}

export interface RunOneOptions {
  signal?: AbortSignal;
  /** Restore from a golden snapshot (shared across calls in this process); default false. */
  snapshots?: boolean | SnapshotPool;
}

let sharedPool: SnapshotPool | undefined;

/**
 * Run one cell exactly as `bothworlds run` would (machine, application, timeline, suites) and
 * return its result, for assertions in a vitest file. A cell a matrix file could not hold (an unknown
 * CPU model or event, a bad parameter, a plug beyond maxvcpus) is a ConfigError before any machine starts.
 */
export async function runOneCell(cell: Cell, options: RunOneOptions = {}): Promise<CellResult> {
  await checkCellInput(cell);
  await sweepStaleTempDirs();
  const needsVm = cell.backend === 'qemu' || cell.backend === 'libvirt';
  const kvm = needsVm ? await probeKvm(await ensureDefaultImage()) : { usable: false, reason: 'not probed', probeMs: 0 };
  const snapshots =
    options.snapshots instanceof SnapshotPool ? options.snapshots : options.snapshots ? (sharedPool ??= new SnapshotPool({ kvm })) : undefined;
  const scope = rootScope.child(`cell-${cell.id}`);
  try {
    return await runCell(cell, {
      scope,
      signal: options.signal ?? new AbortController().signal,
      kvmUsable: kvm.usable,
      loadSuites: loadSuitesForCell,
      startMachine: createMachineFactory({
        kvm,
        ...(snapshots ? { snapshots } : {}),
        appFiles: async (c) => resolveAppFiles(c, await ensureTools()),
      }),
    });
  } finally {
    await scope.dispose();
  }
}
