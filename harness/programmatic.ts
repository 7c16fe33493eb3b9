import type { AppSpec, Cell, SuiteRef, TimelineEvent } from './model/cell.js';
import { DEFAULT_MACHINE, type Backend, type MachineSpec } from './model/machine-spec.js';
import type { CellResult } from './model/result.js';
import { ensureDefaultImage } from './images/default-image.js';
import { ensureTools } from './images/tools.js';
import { probeKvm } from './machines/qemu/accel.js';
import { resolveAppFiles } from './matrix/app-files.js';
import { rootScope } from './run/resources.js';
import { runCell } from './run/cell-runner.js';
import { createMachineFactory } from './run/start-machine.js';
import { loadSuitesForCell } from './suite/registry.js';
import { SnapshotPool } from './snapshots/pool.js';
import { cellId } from './matrix/cell-id.js';
import { sweepStaleTempDirs } from './core/temp-dir.js';

export interface CellInput {
  backend?: Backend;
  machine?: Partial<MachineSpec>;
  app: Partial<AppSpec> & { command: string[] };
  suites?: Array<string | SuiteRef>;
  events?: TimelineEvent[];
  axes?: Cell['axes'];
  timeoutMs?: number;
  retries?: number;
}

/** Build a fully resolved cell from the parts a test cares about; the rest gets the defaults a matrix would. */
export function defineCell(input: CellInput): Cell {
  const machine: MachineSpec = { ...DEFAULT_MACHINE, ...input.machine };
  if (input.machine?.vcpus !== undefined && input.machine.maxVcpus === undefined) machine.maxVcpus = Math.max(machine.vcpus, DEFAULT_MACHINE.maxVcpus);
  const backend = input.backend ?? 'qemu';
  const axes = input.axes ?? { backend, cpu: machine.cpuModel, vcpus: machine.vcpus, memory: machine.memoryMiB };
  return {
    id: cellId(axes),
    axes,
    backend,
    machine,
    app: { files: [], expectExit: 0, timeoutMs: 60_000, ...input.app },
    suites: (input.suites ?? []).map((s) => (typeof s === 'string' ? { name: s, options: {} } : s)),
    events: input.events ?? [],
    timeoutMs: input.timeoutMs ?? 180_000,
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
 * return its result, for assertions in a vitest file.
 */
export async function runOneCell(cell: Cell, options: RunOneOptions = {}): Promise<CellResult> {
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
