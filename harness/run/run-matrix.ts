import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Cell } from '../model/cell.js';
import type { CellResult } from '../model/result.js';
import type { MatrixFile } from '../matrix/load.js';
import { asCellSource, filterCells, type CellSource } from '../matrix/cell-source.js';
import { resolveAppFiles } from '../matrix/app-files.js';
import { ensureTools } from '../images/tools.js';
import { ensureDefaultImage } from '../images/default-image.js';
import { collectEnvironment } from '../report/environment.js';
import { ResultsStore } from '../report/results-store.js';
import type { RunInfo, RunSummaryRecord } from '../report/run-record.js';
import type { Qualification } from '../model/qualification.js';
import { writeFolderReports, type ReportPaths } from '../report/write-all.js';
import { RunFolder } from '../report/results-read.js';
import { probeKvm, type KvmProbe } from '../machines/qemu/accel.js';
import { HostPool } from '../machines/hosts/pool.js';
import { loadSuitesForCell } from './suite-registry.js';
import { rootScope } from '../core/scope.js';
import { runCell } from './cell-runner.js';
import { runPool } from './pool.js';
import { autoConcurrency, surveyCells } from './concurrency.js';
import { availableParallelism } from 'node:os';
import { createMachineFactory } from './start-machine.js';
import { SnapshotPool } from '../snapshots/pool.js';
import { SnapshotSchedule } from '../snapshots/schedule.js';
import { sweepLeftovers } from './sweep-leftovers.js';
import { cellFolder } from '../report/html/escape.js';

export interface RunProgress {
  cellStarted(id: string): void;
  cellFinished(result: CellResult): void;
  message(text: string): void;
  close(): void;
}

export interface RunMatrixOptions {
  /** Parent folder of run folders (reports/). */
  reportsRoot: string;
  /** Continue the run in this folder: only cells without a final result run. */
  resumeDir?: string;
  concurrency?: number;
  shard?: { index: number; total: number };
  /** Restore VM cells from one golden snapshot per configuration (default true). */
  snapshots?: boolean;
  /** Where snapshots are kept (default: the cache's); a bench measures a first run with an empty one. */
  snapshotDir?: string;
  signal: AbortSignal;
  progress: RunProgress;
  /** A qualification policy's verdict on the finished run (its results are in `dir`), put at the top of every report. */
  qualify?: (run: RunInfo, dir: string) => Promise<Qualification | undefined>;
}

export interface RunOutcome {
  /** The run with a summary per cell; whole results are in `dir` (readResults). */
  record: RunSummaryRecord;
  dir: string;
  reports: ReportPaths;
}

/**
 * Run the cells of a matrix: bounded in parallel, streamed to results.jsonl, then reported. A
 * source (expandMatrixLazily) is read as slots free; nothing of a finished cell stays in memory.
 */
export async function runMatrix(file: MatrixFile, cells: readonly Cell[] | CellSource, options: RunMatrixOptions): Promise<RunOutcome> {
  // A harness killed with SIGKILL could not remove its temp dirs, containers and domains (its QEMUs died with it).
  for (const what of await sweepLeftovers()) options.progress.message(`removed ${what}, left by a harness that died`);
  const source = asCellSource(cells);
  // One pass over the cells before the run (each pass makes every cell again).
  const planned = surveyCells(source);
  const needsVm = planned.vmMachines.length > 0;
  const kvm: KvmProbe = needsVm
    ? await probeKvm(await ensureDefaultImage())
    : { usable: false, reason: 'not probed: no VM cells', probeMs: 0 };
  if (needsVm) options.progress.message(`accelerator: ${kvm.usable ? 'KVM' : 'TCG'} (${kvm.reason})`);

  const { store, done } = await openStore(file, planned.ids, options, kvm);
  const pending = done.size > 0 ? filterCells(source, (c) => !done.has(c.id)) : source;
  const toRun = done.size > 0 ? surveyCells(pending) : planned;
  if (done.size > 0) options.progress.message(`resuming: ${done.size} cell(s) already finished, ${pending.size} to run`);

  const tools = ensureTools();
  const hosts = file.doc.hosts && file.doc.hosts.length > 0 ? new HostPool(file.doc.hosts) : undefined;
  const scope = rootScope.child(`run-${store.dir}`);
  // With snapshots, QEMU cells start when they can make progress: boots one per core, clones once
  // their snapshot exists. Without QEMU cells there is nothing to schedule: cells are read in order.
  const schedule = options.snapshots === false || toRun.qemuMachines.length === 0 ? undefined : new SnapshotSchedule<Cell>(availableParallelism());
  const snapshots = schedule && new SnapshotPool({ kvm, scope, schedule, log: (line) => options.progress.message(line), ...(options.snapshotDir ? { dir: options.snapshotDir } : {}) });
  // Whether a snapshot pays depends on how many cells share a configuration.
  snapshots?.plan(toRun.qemuMachines);
  const environment = {
    scope,
    signal: options.signal,
    kvmUsable: kvm.usable,
    loadSuites: loadSuitesForCell,
    artifacts: { runDir: store.dir, dirFor: (cell: Cell) => join(store.dir, 'cells', cellFolder(cell.id), 'artifacts') },
    startMachine: createMachineFactory({ kvm, hosts, ...(snapshots ? { snapshots } : {}), appFiles: async (cell: Cell) => resolveAppFiles(cell, await tools) }),
  };
  // Restored cells mostly wait on their app: with snapshots four cells per core run at once, while
  // the schedule keeps cold boots to one per core (memory still bounds both).
  const concurrency = options.concurrency ?? (snapshots ? autoConcurrency(toRun, availableParallelism() * 4) : autoConcurrency(toRun));
  options.progress.message(`running ${pending.size} cell(s), ${concurrency} at a time`);
  try {
    await runPool(pending, concurrency, options.signal, async (cell) => {
      options.progress.cellStarted(cell.id);
      const result = await runCell(cell, environment);
      await store.append(result);
      options.progress.cellFinished(result);
    }, schedule);
  } catch (error) {
    await store.close();
    throw error;
  } finally {
    await environment.scope.dispose();
  }
  // The reports stream results.jsonl and summarise it: the store keeps no cells.
  const finished = await store.finish({ interrupted: options.signal.aborted });
  const qualification = await options.qualify?.(finished, store.dir);
  const { paths, record } = await writeFolderReports(await RunFolder.open(store.dir), qualification ? { ...finished, qualification } : finished);
  return { record, dir: store.dir, reports: paths };
}

async function openStore(
  file: MatrixFile,
  cellIds: string[],
  options: RunMatrixOptions,
  kvm: KvmProbe,
): Promise<{ store: ResultsStore; done: Set<string> }> {
  if (options.resumeDir) {
    const { store, record } = await ResultsStore.open(options.resumeDir, { matrixHash: file.hash });
    const finished = record.cells.filter((c) => c.outcome !== 'interrupted').map((c) => c.id);
    return { store, done: new Set(finished) };
  }
  const runId = `${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}-${randomBytes(3).toString('hex')}`;
  const store = await ResultsStore.create(join(options.reportsRoot, `${file.name}-${runId}`), {
    schema: 'bothworlds/run@1',
    runId,
    startedAt: new Date().toISOString(),
    matrix: { name: file.name, path: file.path, hash: file.hash },
    environment: await collectEnvironment({ kvm: { usable: kvm.usable, reason: kvm.reason } }),
    ...(options.shard ? { shard: options.shard } : {}),
    cellIds,
  });
  return { store, done: new Set() };
}
