import { makeTempDir } from '../../core/temp-dir.js';
import { AgentMachine } from '../agent-machine.js';
import { attachCleanupError, InfrastructureError } from '../../core/errors.js';
import { pollUntil } from '../../core/deadline.js';
import { ResourceScope, rootScope } from '../../core/scope.js';
import { LineBuffer } from '../line-source.js';
import type { ConsoleLine } from '../../model/result.js';
import type { MachineSpec } from '../../model/machine-spec.js';
import { metric, type Metrics } from '../../model/metrics.js';
import type { Payload } from '../../images/payload.js';
import type { GuestAgent } from '../../qga/client.js';
import type { QmpClient } from '../../qmp/client.js';
import type { GuestPortAccess, MachineControls, StartedMachine } from '../machine.js';
import { resolveAccel, probeKvm, type KvmProbe } from './accel.js';
import { nameImageInBootError, resolveBoot } from './boot-source.js';
import { QemuInstance, raceExit } from './instance.js';
import type { QemuLaunchConfig } from './argv.js';
import { createQemuControls } from './controls/index.js';
import { ensureDefaultImage } from '../../images/default-image.js';
import { MigratingForwards } from '../../net/user-net.js';
import { HeartbeatPace, hasBothworldsHeartbeat } from '../heartbeat-pace.js';
import { USER_NETDEV_ID } from './argv.js';

export interface QemuMachineOptions {
  /** Owner of everything this machine creates; defaults to a child of the root scope. */
  scope?: ResourceScope;
  name?: string;
  /** Files of the application under test, placed under /opt/bothworlds/app in the guest. */
  payload?: Payload;
  /** Deadline for boot to a working agent (TCG on 2 busy cores is slow: default 90 s). */
  bootTimeoutMs?: number;
  /** The KVM probe's answer, when the caller already has it. */
  kvm?: KvmProbe;
  /** Restore from a snapshot instead of booting (`-incoming URI`, then `cont`). */
  incoming?: string;
  /** Let an in-guest listener online hot-plugged CPUs (`bw.autoonline=1`) instead of the agent. */
  autoOnline?: boolean;
  /** A QEMU already started with `-incoming defer` (a snapshot spare): adopted instead of launched. */
  prestarted?: PrestartedQemu;
  /** Load the guest's state into the new QEMU (a snapshot restore) before waiting for its agent. */
  restore?: (instance: QemuInstance) => Promise<void>;
}

/** A QEMU started ahead of need, with the lines it printed so far. */
export interface PrestartedQemu {
  instance: QemuInstance;
  lines: LineBuffer;
}

export interface HotplugRecord {
  /** The id of the device or object. */
  id: string;
  command: 'device_add' | 'object-add';
  args: Record<string, unknown>;
}

/** A QEMU guest up to a working agent. One QEMU instance at a time; migration swaps it. */
export class QemuMachine extends AgentMachine implements StartedMachine {
  readonly backend = 'qemu' as const;
  readonly payloadDir = '/opt/bothworlds/app';
  readonly output: LineBuffer;
  readonly controls: MachineControls;
  readonly startMetrics: Metrics;
  /** Resolves with an error when QEMU dies unexpectedly (crash, killed) — the cell is an `error`. */
  readonly lost: Promise<InfrastructureError>;
  /**
   * Devices hot-plugged so far, in order, as QMP commands: a migration destination replays them
   * before `migrate-incoming` (or the RAM layout differs and the migration fails).
   */
  readonly hotplugged: HotplugRecord[] = [];
  readonly guestPorts?: GuestPortAccess;
  /** The guest heartbeat's pace: fast only while a migration measures its downtime. */
  readonly heartbeat: HeartbeatPace;
  private readonly forwards?: MigratingForwards<QemuInstance>;
  private current: QemuInstance;
  private stopped = false;
  private reportLost!: (error: InfrastructureError) => void;

  constructor(
    readonly name: string,
    readonly spec: MachineSpec,
    readonly accel: 'kvm' | 'tcg',
    readonly launch: Omit<QemuLaunchConfig, 'sockets' | 'name'>,
    readonly scope: ResourceScope,
    instance: QemuInstance,
    output: LineBuffer,
    startMetrics: Metrics,
  ) {
    super();
    this.output = output;
    this.current = instance;
    this.startMetrics = startMetrics;
    this.heartbeat = new HeartbeatPace(output, () => this.current.heartbeatPort, hasBothworldsHeartbeat(spec));
    this.lost = new Promise((resolve) => (this.reportLost = resolve));
    this.watch(instance);
    this.controls = createQemuControls(this);
    if (spec.network !== 'none') {
      const forwards = new MigratingForwards<QemuInstance>((i) => (line) => i.qmp.execute('human-monitor-command', { 'command-line': line }), USER_NETDEV_ID);
      this.forwards = forwards;
      this.guestPorts = { target: (port) => forwards.target(this.current, port) };
    }
  }

  /** Whether the guest onlines hot-plugged CPUs itself (kernel argument bw.autoonline=1). */
  get autoOnline(): boolean {
    return this.launch.boot.kind === 'kernel' && /(^|\s)bw\.autoonline=1(\s|$)/.test(this.launch.boot.append);
  }

  get origin(): number {
    return this.output.origin;
  }

  get instance(): QemuInstance {
    return this.current;
  }

  get qmp(): QmpClient {
    return this.current.qmp;
  }

  get agent(): GuestAgent {
    if (!this.current.agent) throw new Error(`machine ${this.name} has no connected agent`);
    return this.current.agent;
  }

  /** QEMU's stderr (warnings such as TCG dropping CPU features). */
  get qemuWarnings(): string[] {
    return [...this.current.process.stderrLines];
  }

  /** Hand the machine over to another QEMU instance (live migration's destination). */
  adopt(instance: QemuInstance): void {
    this.current = instance;
    this.watch(instance);
    // Slirp does not migrate host forwards: the destination gets its own before clients arrive.
    this.forwards?.handOver(instance);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const errors: unknown[] = [];
    try {
      await this.current.stop();
    } catch (error) {
      errors.push(error);
    }
    errors.push(...(await this.scope.dispose()));
    if (errors.length > 0) throw new AggregateError(errors, `stopping ${this.name} failed`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  private watch(instance: QemuInstance): void {
    const lost = (error: InfrastructureError) => {
      if (!this.stopped && instance === this.current) this.reportLost(error);
    };
    // `lost` never rejects by contract; were it to, that is a loss too.
    instance.lost.then(lost, (error: unknown) => lost(error instanceof InfrastructureError ? error : new InfrastructureError('QEMU_LOST', String(error), { cause: error })));
  }
}

let machineCounter = 0;

export type QemuLaunch = Omit<QemuLaunchConfig, 'sockets' | 'name'>;

/**
 * Resolve everything a QEMU launch needs (accelerator, boot files with the payload) without
 * starting anything: the snapshot pool hashes this to find a golden image for the configuration.
 */
export async function prepareQemuLaunch(
  spec: MachineSpec,
  options: Pick<QemuMachineOptions, 'payload' | 'kvm' | 'autoOnline'> & { scope: ResourceScope },
): Promise<QemuLaunch> {
  const kvm = options.kvm ?? (await probeKvm(await ensureDefaultImage()));
  const accel = resolveAccel(spec, kvm);
  const boot = await resolveBoot(spec.image, {
    payload: options.payload,
    // Only a disk needs a writable overlay: a kernel boot (the default image) makes no directory.
    overlayDir: () => {
      const dir = makeTempDir('disk-');
      options.scope.registerTempDir(dir);
      return dir;
    },
    kernelAppend: [spec.kernelAppend, options.autoOnline ? 'bw.autoonline=1' : undefined].filter(Boolean).join(' ') || undefined,
  });
  return { spec, accel, boot };
}

/** Boot (or restore) a QEMU guest from a typed spec and wait until its agent answers. */
export async function startQemuMachine(
  spec: MachineSpec,
  options: QemuMachineOptions & { launch?: QemuLaunch } = {},
): Promise<QemuMachine> {
  const name = options.name ?? `bw-${process.pid}-${++machineCounter}`;
  const scope = (options.scope ?? rootScope).child(name);
  const output = new LineBuffer();
  const begun = performance.now();
  try {
    const prepared = options.launch ?? (await prepareQemuLaunch(spec, { ...options, scope }));
    const launch: QemuLaunch = { ...prepared, ...(options.incoming ? { incoming: options.incoming } : {}) };
    const launched = performance.now();
    const instance = options.prestarted ? adoptPrestarted(options.prestarted, scope, output) : await QemuInstance.start({ scope, lines: output, name, config: launch });
    const qmpReady = performance.now();
    if (options.restore) await raceExit(instance.process, options.restore(instance), 'snapshot restore', output);
    else if (options.incoming) await resumeRestored(instance, output);
    const loaded = performance.now();
    // A systemd guest does ~3x the default guest's boot work: under TCG on a loaded 2-core host 79 s was seen.
    await instance.waitForAgent(options.bootTimeoutMs ?? (spec.image.kind === 'distro' ? 240_000 : 90_000));
    const metrics: Metrics = {
      ...(options.launch ? {} : { prepare_ms: metric(launched - begun, 'ms') }),
      qmp_ready_ms: metric(qmpReady - launched, 'ms'),
      ...(options.restore || options.incoming ? { restore_load_ms: metric(loaded - qmpReady, 'ms'), restore_agent_ms: metric(performance.now() - loaded, 'ms') } : {}),
      boot_ms: metric(performance.now() - launched, 'ms'),
    };
    return new QemuMachine(name, spec, launch.accel, { spec: launch.spec, accel: launch.accel, boot: launch.boot }, scope, instance, output, metrics);
  } catch (error) {
    nameImageInBootError(error, spec.image);
    for (const cleanupError of await scope.dispose()) attachCleanupError(error, cleanupError);
    throw error;
  }
}

/**
 * Take over a pre-started QEMU: the machine's scope stops it, and what it prints goes to the
 * machine's own output (whose clock starts with the cell, not with the spare).
 */
function adoptPrestarted(prestarted: PrestartedQemu, scope: ResourceScope, output: LineBuffer): QemuInstance {
  const { instance, lines } = prestarted;
  for (const line of lines.lines) output.push(line.source, line.text);
  lines.on('line', (line: ConsoleLine) => output.push(line.source, line.text));
  scope.register({ name: `prestarted QEMU ${instance.scope.name}`, kind: 'process', dispose: () => instance.stop(), disposeSync: () => instance.scope.disposeSync() });
  return instance;
}

/** A snapshot restore stays `paused` after the incoming migration until told to `cont` (QEMU-NOTES). */
async function resumeRestored(instance: QemuInstance, lines: LineBuffer): Promise<void> {
  // A stream QEMU cannot load makes it exit: race that, or the poll would wait out its deadline.
  await raceExit(instance.process, waitForRestore(instance), 'snapshot restore', lines);
  await instance.qmp.execute('cont');
}

async function waitForRestore(instance: QemuInstance): Promise<void> {
  await pollUntil(
    () => instance.qmp.execute('query-status'),
    (status) => status.status !== 'inmigrate',
    { timeoutMs: 60_000, intervalMs: 5, what: 'snapshot restore to finish (status leaving inmigrate)' },
  );
}
