import type { Backend, MachineSpec } from './machine-spec.js';

export type AxisValue = string | number | boolean;

/** The application under test. */
export interface AppSpec {
  /** argv, run in the guest (or on the host for physical backends). */
  command: string[];
  /** Host files brought into the guest payload (/opt/bothworlds/app). */
  files: string[];
  expectExit: number;
  timeoutMs: number;
  /** How to tell the application is healthy (the forms are HealthCheck's). */
  health?: HealthCheck;
  /**
   * Guest TCP ports reachable from the host: each gets a loopback port the harness picks, given to
   * host-side commands as BW_PORT_<guest port> and written in the results.
   */
  ports?: number[];
  /** A load generator run on the host once the app is ready, until it is stopped (argv; `$BW_PORT_n` expands). */
  load?: string[];
  /** A line of the application's output that means "ready" (a regular expression). */
  readyPattern?: string;
  env?: Record<string, string>;
  /**
   * A service runs until bothworlds stops it: it must still be running when the timeline and the
   * suites' checks are done, and is then stopped with SIGTERM. Otherwise the app must exit by
   * itself within `timeoutMs` with `expectExit`.
   */
  service?: boolean;
  /** Debian packages installed into the cell's distribution image (a derived image per package set). */
  packages?: string[];
  /** A systemd unit run as the application: started and stopped with systemctl, output from its journal. */
  unit?: string;
}

/**
 * A health check: argv run in the guest (a plain list; exit 0 = healthy), or from the host through
 * a forwarded port: a TCP answer, an HTTP status below 400, or a host command (exit 0).
 */
export type HealthCheck = string[] | { tcp: number } | { http: string; port: number } | { host: string[] };

/** When a timeline event fires. */
export type Trigger =
  | { kind: 'at'; afterMs: number }
  | { kind: 'line'; pattern: string; source: 'app' | 'console' };

/** One scheduled event of a cell's scenario; `kind` names a file under harness/inject/. */
export interface TimelineEvent {
  kind: string;
  /** A short label for reports; defaults to the kind. */
  label?: string;
  trigger: Trigger;
  /** Repeat the event this many extra times, `everyMs` apart. */
  repeat?: { count: number; everyMs: number };
  params: Record<string, unknown>;
  /** Not done is acceptable: a skipped optional event does not make the cell `incomplete`. */
  optional?: boolean;
  /** The suite that scheduled this event (absent for the matrix's own scenario steps). */
  addedBy?: string;
}

export interface SuiteRef {
  /** Built-in suite name ('cpu-model') or a path to a user's suite module. */
  name: string;
  options: Record<string, unknown>;
}

/** A physical host reached over SSH. Never carries secrets' contents, only paths. */
export interface HostRef {
  name: string;
  address: string;
  port: number;
  user: string;
  keyPath?: string;
  useAgent?: boolean;
  knownHosts?: string | false;
  labels: string[];
  slots: number;
  /** A libvirt daemon on this host (`qemu+ssh://user@host/system`): libvirt cells run there, placed by free slots. */
  libvirt?: string;
}

/** Files fetched from the machine into the cell's report folder (`artifacts:` in a matrix). */
export interface ArtifactSpec {
  /** Globs on the machine (guest, container or host), e.g. /var/log/redis/*.log. */
  patterns: string[];
  /** `failure` (default): only when the cell did not pass; `always`: every cell. */
  when: 'failure' | 'always';
  /** Each file keeps at most this many bytes (its tail). */
  maxFileBytes: number;
  /** All of a cell's artifacts together. */
  maxTotalBytes: number;
}

/** When a cell's QMP/agent transcripts and libvirt files are kept (`evidence:` in a matrix). */
export type EvidencePolicy = 'failure' | 'always' | 'never';

/** A known-flaky cell kept from failing the run until `expires` (`quarantine:` in a matrix). */
export interface QuarantineEntry {
  /** Cell id or glob (`*`, `?`). */
  cells: string;
  reason: string;
  /** ISO date (YYYY-MM-DD, the end of that day UTC) after which the entry no longer protects and fails the run. */
  expires: string;
}

/** One fully resolved cell of a matrix. Stamped with the axis values that produced it. */
export interface Cell {
  /** Stable id derived from the axis values (same values → same id on every machine). */
  id: string;
  axes: Record<string, AxisValue>;
  backend: Backend;
  machine: MachineSpec;
  app: AppSpec;
  suites: SuiteRef[];
  events: TimelineEvent[];
  host?: HostRef;
  /** Per-cell deadline for everything (boot, app, events, suites). */
  timeoutMs: number;
  /** Retries allowed for `error` outcomes only. */
  retries: number;
  artifacts?: ArtifactSpec;
  /** Transcripts and libvirt files kept in the cell's folder: on failure (default), always, or never. */
  evidence?: EvidencePolicy;
  /** Run the cell this many times (`repeat:`); reports give its pass rate and metric percentiles. */
  repeat?: number;
  /** The quarantine entry that matches this cell, if any. */
  quarantine?: QuarantineEntry;
}
