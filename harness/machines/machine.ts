import type { EventEmitter } from 'node:events';
import type { Backend } from '../model/machine-spec.js';
import type { MachineFacts } from '../model/facts.js';
import type { ConsoleLine, Metrics, Series } from '../model/index.js';
import type { ExecResult } from '../model/exec-result.js';

export interface ExecOptions {
  timeoutMs?: number;
  env?: Record<string, string>;
  /** Text written to the command's standard input. */
  input?: string;
  signal?: AbortSignal;
}

// Lives in model/ so the guest agent client (qga/, below machines/) can use it; re-exported for backends.
export type { ExecResult } from '../model/exec-result.js';

/** A process left running on the machine (the application under test). */
export interface BackgroundProcess {
  readonly pid: number;
  /** Resolves when it exits (or rejects with a DeadlineError). */
  wait(timeoutMs: number): Promise<ExecResult>;
  /** Whether it is still running. */
  isRunning(): Promise<boolean>;
  kill(signal?: 'TERM' | 'KILL'): Promise<void>;
}

/**
 * Lines the machine prints: the serial console, the application's output, the heartbeat.
 * Emits 'line' with a ConsoleLine; `t` is ms since the machine's clock origin.
 */
export interface LineSource extends EventEmitter {
  on(event: 'line', listener: (line: ConsoleLine) => void): this;
  /** Everything seen so far (bounded). */
  readonly lines: readonly ConsoleLine[];
  /** Resolve at the first line (seen already or future) matching `pattern`; DeadlineError otherwise. */
  waitForLine(pattern: RegExp, timeoutMs: number, source?: ConsoleLine['source']): Promise<ConsoleLine>;
  /** The most recent line (of a source). */
  lastLine(source?: ConsoleLine['source']): ConsoleLine | undefined;
  /** Add a line (e.g. the harness's own notes) at `at` (performance.now()). */
  push(source: ConsoleLine['source'], text: string, at?: number): ConsoleLine;
  /** ms since the machine's clock origin (performance.now() of t = 0). */
  readonly origin: number;
}

/** When a backend acknowledged a request, and what it measured. */
export interface Ack {
  /** performance.now() when the backend acknowledged. */
  acknowledgedAt: number;
  metrics: Metrics;
  detail?: Record<string, unknown>;
}

export interface MigrationOptions {
  transport?: 'unix' | 'tcp';
  maxBandwidthBytesPerSec?: number;
  downtimeLimitMs?: number;
  autoConverge?: boolean;
  xbzrle?: boolean;
  multifd?: number;
  postcopy?: boolean;
  timeoutMs?: number;
  /** Test hook: skip replaying hot-plugged devices on the destination. */
  skipDeviceReplay?: boolean;
}

export interface MigrationReport extends Ack {
  status: 'completed' | 'cancelled' | 'failed';
  series: Series[];
}

/**
 * What a backend can change under a running application. Each facet is present only when the
 * backend can do it here; inject/ files check for the facet and skip with `unsupportedReason`.
 */
export interface MachineControls {
  cpus?: {
    /** Add one vCPU (hot-plug, or online on physical hosts); resolves when acknowledged. */
    plug(): Promise<Ack>;
    /** Remove one vCPU (offline through the agent where device_del is unsafe). */
    unplug(): Promise<Ack>;
  };
  memory?: {
    plug(sizeMiB: number): Promise<Ack & { id: string }>;
    unplug(id?: string): Promise<Ack>;
  };
  balloon?: {
    setTargetMiB(targetMiB: number, timeoutMs: number): Promise<Ack>;
    actualMiB(): Promise<number>;
  };
  pause?: {
    pause(): Promise<Ack>;
    resume(): Promise<Ack>;
  };
  clock?: {
    /** Set the guest's wall clock to the host's now. */
    correct(): Promise<Ack>;
  };
  migrate?: {
    migrate(options: MigrationOptions): Promise<MigrationReport>;
  };
  /** Physical counterpart of ballooning: allocate and hold memory. */
  memoryPressure?: {
    hold(sizeMiB: number): Promise<Ack>;
    release(): Promise<Ack>;
  };
  /** Why a facet is absent, keyed by facet name (for skipped reasons). */
  unsupportedReason: Partial<Record<Exclude<keyof MachineControls, 'unsupportedReason'>, string>>;
}

/** Where the guest's TCP ports are reachable from this host right now (live migration moves it). */
export interface GuestPortAccess {
  target(guestPort: number): Promise<{ host: string; port: number }>;
}

/** A machine that is up and ready: exec works. Backends: qemu, libvirt, local, ssh, container. */
export interface StartedMachine extends AsyncDisposable {
  readonly backend: Backend;
  readonly name: string;
  /** 'kvm' | 'tcg' for VMs, 'none' for physical hosts and containers. */
  readonly accel: 'kvm' | 'tcg' | 'none';
  /** performance.now() at which the machine's clock origin (t = 0 of its lines) lies. */
  readonly origin: number;
  readonly output: LineSource;
  readonly controls: MachineControls;
  /** Where the application payload lives on the machine (e.g. /opt/bothworlds/app). */
  readonly payloadDir: string;
  /** Metrics of starting (boot_ms, agent_ms ...). */
  readonly startMetrics: Metrics;
  /**
   * Resolves (never rejects) with an infrastructure error if the machine is lost unexpectedly:
   * QEMU crashed, the SSH connection dropped, the container died. Never resolves on a clean stop.
   */
  readonly lost?: Promise<Error>;
  /** Guest TCP ports reachable from this host; absent when the machine has no network. */
  readonly guestPorts?: GuestPortAccess;

  exec(command: string[], options?: ExecOptions): Promise<ExecResult>;
  /** Start a command in the background; its output lines go to `output` with source 'app'. */
  spawn(command: string[], options?: ExecOptions): Promise<BackgroundProcess>;
  writeFile(path: string, data: Buffer | string, mode?: number): Promise<void>;
  readFile(path: string): Promise<Buffer>;
  facts(): Promise<MachineFacts>;
  /** Tear down; idempotent. */
  stop(): Promise<void>;
}
