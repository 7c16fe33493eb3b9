import type { CellResult } from '../model/result.js';
import type { CellSummary } from './cell-summary.js';
import type { Qualification } from '../model/qualification.js';

export interface EnvironmentFingerprint {
  hostCpuModel: string;
  hostCpuFlags: string[];
  hostKernel: string;
  hostOs: string;
  qemuVersion?: string;
  libvirtVersion?: string;
  dockerVersion?: string;
  /** How local applications were contained: a cgroup of their own, or only their process group (and why). */
  localContainment?: string;
  kvm: { usable: boolean; reason: string };
  nodeVersion: string;
  harnessVersion: string;
  cores: number;
  memoryMiB: number;
}

export interface RunHeader {
  schema: 'bothworlds/run@1';
  runId: string;
  startedAt: string;
  matrix: { name: string; path: string; hash: string };
  environment: EnvironmentFingerprint;
  shard?: { index: number; total: number };
  /** Cells planned for this run (or shard). */
  cellIds: string[];
}

export interface RunRecord extends RunHeader {
  finishedAt?: string;
  interrupted: boolean;
  cells: CellResult[];
  /** The verdict of the run's qualification policy, when it has one: at the top of every report. */
  qualification?: Qualification;
}

/** A run without its cells: what every report's header, and a streamed report, start from. */
export type RunInfo = Omit<RunRecord, 'cells'>;

/** A run with a small summary per cell (what the exit code, the index and summary.md need), not whole results. */
export interface RunSummaryRecord extends RunInfo {
  cells: CellSummary[];
}
