import type { Backend } from './machine-spec.js';
import type { AxisValue } from './cell.js';
import type { MachineFacts } from './facts.js';
import type { Metrics } from './metrics.js';
import type { Outcome } from './outcome.js';
import type { IsaPrediction } from './isa.js';

export interface ErrorInfo {
  code: string;
  category: string;
  message: string;
}

export interface CheckResult {
  name: string;
  outcome: Outcome;
  /** For a person: what was expected, what was seen ("app kept 2 worker threads after vCPUs went 2→4"). */
  message: string;
  metrics?: Metrics;
}

export interface SuiteResult {
  suite: string;
  outcome: Outcome;
  reason?: string;
  checks: CheckResult[];
  metrics: Metrics;
  /** Free-form structured data a suite wants in the report (flag diffs, clock samples). */
  data?: Record<string, unknown>;
  durationMs: number;
}

/** A time-stamped sample series (throttle %, dirty rate, heartbeat gaps) for timelines. */
export interface Series {
  name: string;
  unit: string;
  /** [ms since cell start, value] */
  points: Array<[number, number]>;
}

/** What one timeline event did. Times are ms since the cell started. */
export interface EventRecord {
  kind: string;
  label: string;
  outcome: 'ok' | 'error' | 'skipped';
  requestedAtMs: number;
  /** When QEMU (or the backend) acknowledged the request. */
  acknowledgedAtMs?: number;
  /** When the guest was seen to reflect the change (nproc, MemTotal, answering again). */
  observedAtMs?: number;
  durationMs: number;
  metrics: Metrics;
  series?: Series[];
  error?: ErrorInfo;
  reason?: string;
  detail?: Record<string, unknown>;
  /** The event may be skipped without making the cell incomplete. */
  optional?: boolean;
  /** The suite that scheduled it, when a suite (not the matrix's scenario) asked for it. */
  addedBy?: string;
}

export interface ConsoleLine {
  /** ms since the cell started */
  t: number;
  /** `load`: the host-side load generator's output. */
  source: 'console' | 'app' | 'heartbeat' | 'harness' | 'load';
  text: string;
}

/** A file fetched from the machine for the report (or why it could not be). */
export interface ArtifactRecord {
  /** Where it was on the machine (or the globs, when nothing matched). */
  source: string;
  /** Where it is now, relative to the run folder. */
  path?: string;
  bytes: number;
  /** Only the file's tail was kept (it had `originalBytes`). */
  truncated?: boolean;
  originalBytes?: number;
  error?: string;
}

export interface CellResult {
  id: string;
  axes: Record<string, AxisValue>;
  backend: Backend;
  outcome: Outcome;
  /** Why skipped / failed / error, in one sentence. */
  reason?: string;
  error?: ErrorInfo;
  /** 1 + retries used; each attempt's outcome is kept. */
  attempts: Array<{ outcome: Outcome; reason?: string; durationMs: number }>;
  startedAt: string;
  durationMs: number;
  /** boot_ms, app_ms, accel... */
  metrics: Metrics;
  accel?: 'kvm' | 'tcg' | 'none';
  facts?: MachineFacts;
  suites: SuiteResult[];
  events: EventRecord[];
  /** Console and app output (bounded), for the per-cell page. */
  log: ConsoleLine[];
  series?: Series[];
  /** Guest TCP port → the loopback port on the harness host that reached it (app.ports). */
  ports?: Record<string, number>;
  /** Files fetched from the machine (`artifacts:`), on failure or always. */
  artifacts?: ArtifactRecord[];
  /** What the application's binaries need from the CPU, what this cell's CPU lacks (predicted before it ran), and a SIGILL's instruction. */
  isa?: IsaPrediction;
}
