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

/** A transcript or libvirt file kept in the cell's folder (`evidence:`). */
export interface EvidenceRecord {
  kind: 'qmp' | 'agent' | 'virsh' | 'domain-xml' | 'libvirt-log';
  /** Relative to the run folder. */
  path: string;
  bytes: number;
  /** The middle was left out to keep it within its cap. */
  truncated?: boolean;
  error?: string;
}

/** One metric across a cell's repeated runs. */
export interface MetricStats {
  unit: Metrics[string]['unit'];
  /** Runs that recorded it. */
  n: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  /** 95% confidence interval of the mean (Student's t; one run gives [mean, mean]). */
  ci95: [number, number];
}

/** A cell run `repeat:` times: every run's verdict, the pass rate, and each metric's distribution. */
export interface RepeatSummary {
  runs: Array<{ outcome: Outcome; reason?: string; durationMs: number }>;
  passed: number;
  total: number;
  /** passed / total, 0..1. */
  passRate: number;
  /** Cell metrics by name, suite metrics as `suite/name`, event metrics as `event label/name` (with `ack_ms`). */
  metrics: Record<string, MetricStats>;
  /** Which run (1-based) the suites, events and log of this result come from: the first that did not pass. */
  detailsFrom: number;
}

/** The `quarantine:` entry that covered this cell; an expired one no longer protects it and fails the run. */
export interface QuarantineRecord {
  cells: string;
  reason: string;
  expires: string;
  expired: boolean;
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
  /** QMP and agent transcripts, libvirt's domain XML and log lines, in the cell's folder. */
  evidence?: EvidenceRecord[];
  /** Present when the cell ran more than once (`repeat:`). */
  repeats?: RepeatSummary;
  quarantine?: QuarantineRecord;
  /** What the application's binaries need from the CPU, what this cell's CPU lacks (predicted before it ran), and a SIGILL's instruction. */
  isa?: IsaPrediction;
}
