import type { Socket } from 'node:net';
import { makeTempDir } from '../../core/temp-dir.js';
import { AgentMachine } from '../agent-machine.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InfrastructureError } from '../../core/errors.js';
import { pollUntil } from '../../core/deadline.js';
import type { MachineSpec } from '../../model/machine-spec.js';
import { metric, type Metrics } from '../../model/metrics.js';
import type { ResourceScope } from '../../core/scope.js';
import { LineBuffer } from '../line-source.js';
import type { Ack, GuestPortAccess, MachineControls, MigrationOptions, MigrationReport, StartedMachine } from '../machine.js';
import { MigratingForwards } from '../../net/user-net.js';
import { USER_NETDEV_ID } from '../qemu/argv.js';
import { attachPortReader } from '../qemu/port-reader.js';
import { HeartbeatPace, hasBothworldsHeartbeat } from '../heartbeat-pace.js';
import { HeartbeatWatch } from '../qemu/controls/heartbeat-gap.js';
import { vcpuRegistered } from '../qemu/controls/cpus.js';
import { VirshAgent } from './agent.js';
import { dimmXml } from './domain-xml.js';
import { parseDomstats, parseJobInfo } from './stats.js';
import { virsh } from './virsh.js';
import { registerDomain } from './owner.js';
import type { MigrationHosts, MigrationSlot } from './migration-hosts.js';

/** A libvirt-managed guest: the same images and suites as on QEMU, driven through libvirt's own verbs. */
export class LibvirtMachine extends AgentMachine implements StartedMachine {
  readonly backend = 'libvirt' as const;
  readonly payloadDir = '/opt/bothworlds/app';
  readonly output = new LineBuffer();
  readonly controls: MachineControls;
  readonly agent: VirshAgent;
  private reopenAfterResume: (() => void) | undefined;
  uri: string;
  readonly guestPorts?: GuestPortAccess;
  private readonly forwards?: MigratingForwards<string>;
  private portScope: ResourceScope;
  /** The host side of the guest heartbeat's channel on the daemon the domain runs on now. */
  private heartbeatPort: Socket | undefined;
  /** The guest heartbeat's pace: fast only while a migration measures its downtime. */
  readonly heartbeat: HeartbeatPace;
  private migrations = 0;
  /** Where the domain was started; its slot is the cell's for its whole life. */
  private readonly homeUri: string;
  /** The slot leased on the host the domain migrated to, until it moves back or the cell ends. */
  private away: MigrationSlot | undefined;
  private readonly stopping = new AbortController();

  constructor(
    readonly name: string,
    readonly domain: string,
    readonly spec: MachineSpec,
    readonly accel: 'kvm' | 'tcg',
    uri: string,
    private readonly scope: ResourceScope,
    private runDir: string,
    readonly startMetrics: Metrics,
    private readonly destinations: MigrationHosts | undefined,
    noMigrationReason = 'no second libvirtd to migrate to (scripts/services/libvirtd.sh starts one; or set BOTHWORLDS_LIBVIRT_MIGRATION_URI)',
  ) {
    super();
    this.uri = uri;
    this.homeUri = uri;
    // Registered before any destination domain, so torn down after it: the slot outlives the domain there.
    const giveBack = (): void => (this.stopping.abort(new Error(`${name} is stopping`)), this.away?.release());
    scope.register({ name: `migration slot of ${domain}`, kind: 'host-state', dispose: async () => giveBack(), disposeSync: giveBack });
    this.agent = new VirshAgent(uri, domain);
    this.portScope = scope.child('ports-0');
    this.heartbeat = new HeartbeatPace(this.output, () => this.heartbeatPort, hasBothworldsHeartbeat(spec));
    if (spec.network !== 'none') {
      // Keyed by the libvirtd the domain runs on: each QEMU needs its own host forwards.
      const forwards = new MigratingForwards<string>((at) => (line) => virsh(at, ['qemu-monitor-command', domain, '--hmp', line]), USER_NETDEV_ID);
      this.forwards = forwards;
      this.guestPorts = { target: (port) => forwards.target(this.uri, port) };
    }
    const unsupportedReason: MachineControls['unsupportedReason'] = { memoryPressure: 'use a balloon event (virsh setmem) on VMs' };
    if (spec.maxVcpus <= spec.vcpus) unsupportedReason.cpus = `vCPU hot-plug needs maxvcpus > vcpus (this cell has ${spec.vcpus} of ${spec.maxVcpus})`;
    if (!(spec.maxMemoryMiB && spec.maxMemoryMiB > spec.memoryMiB)) unsupportedReason.memory = 'memory hot-plug needs maxmem (and slots) above memory in the matrix';
    if (!spec.balloon) unsupportedReason.balloon = 'the cell has balloon: false';
    if (!destinations) unsupportedReason.migrate = noMigrationReason;
    this.controls = {
      ...(unsupportedReason.cpus ? {} : { cpus: { plug: () => this.plugVcpu(), unplug: () => this.offlineVcpu() } }),
      ...(unsupportedReason.balloon ? {} : { balloon: { setTargetMiB: (t, ms) => this.setMemory(t, ms), actualMiB: () => this.balloonMiB() } }),
      ...(unsupportedReason.memory ? {} : { memory: { plug: (mib) => this.attachDimm(mib), unplug: () => this.detachDimm() } }),
      // libvirt refuses agent calls to a paused domain ("domain is not running"): while paused the
      // gate is closed, so the application's watcher waits for the resume instead of losing it.
      pause: {
        pause: async () => {
          const reopen = this.handover.begin();
          await virsh(this.uri, ['suspend', domain]).catch((error: unknown) => (reopen(), Promise.reject(error)));
          this.reopenAfterResume = reopen;
          return { acknowledgedAt: performance.now(), metrics: {} };
        },
        resume: async () => {
          try {
            await virsh(this.uri, ['resume', domain]);
          } finally {
            this.reopenAfterResume?.();
            this.reopenAfterResume = undefined;
          }
          return { acknowledgedAt: performance.now(), metrics: {} };
        },
      },
      clock: { correct: () => this.correctClock() },
      ...(destinations ? { migrate: { migrate: (options) => this.migrate(destinations, options) } } : {}),
      unsupportedReason,
    };
  }

  get origin(): number {
    return this.output.origin;
  }

  async stop(): Promise<void> {
    const errors = await this.scope.dispose();
    if (errors.length > 0) throw new AggregateError(errors, `stopping ${this.name} failed`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  async attachPorts(): Promise<void> {
    const [, heartbeat] = await Promise.all([
      attachPortReader(join(this.runDir, 'app.sock'), 'app', this.output, this.portScope),
      attachPortReader(join(this.runDir, 'heartbeat.sock'), 'heartbeat', this.output, this.portScope),
    ]);
    this.heartbeatPort = heartbeat;
  }

  private async stats(group: string): Promise<Record<string, string>> {
    return parseDomstats(await virsh(this.uri, ['domstats', group, this.domain]));
  }

  /**
   * `setvcpus N --live` (ACPI hot-plug), then `setvcpus N --guest` (onlined by the agent) once the
   * guest has registered the CPU: before that the agent calls it online and `--guest` leaves it off.
   */
  private async plugVcpu(): Promise<Ack> {
    const current = Number((await this.stats('--vcpu'))['vcpu.current']);
    const before = new Set((await this.agent.getVcpus()).map((v) => v['logical-id']));
    await virsh(this.uri, ['setvcpus', this.domain, String(current + 1), '--live']);
    const acknowledgedAt = performance.now();
    await pollUntil(() => this.agent.getVcpus(), (v) => v.some((x) => !before.has(x['logical-id']) && vcpuRegistered(x)), { timeoutMs: 20_000, intervalMs: 50, what: 'the guest to register the new vCPU (its sysfs online file)' });
    await virsh(this.uri, ['setvcpus', this.domain, String(current + 1), '--guest']);
    return { acknowledgedAt, metrics: {}, detail: { vcpus: current + 1, via: 'virsh setvcpus --live, then --guest' } };
  }

  /** Offline through the agent only: a live vCPU unplug times out and crashes QEMU 7.2 (PLATFORM-NOTES). */
  private async offlineVcpu(): Promise<Ack> {
    const online = (await this.agent.getVcpus()).filter((v) => v.online).length;
    if (online <= 1) throw new InfrastructureError('NO_CPU_TO_OFFLINE', 'only one vCPU is online');
    await virsh(this.uri, ['setvcpus', this.domain, String(online - 1), '--guest']);
    return { acknowledgedAt: performance.now(), metrics: {}, detail: { online: online - 1, via: 'virsh setvcpus --guest' } };
  }

  private async balloonMiB(): Promise<number> {
    return Number((await this.stats('--balloon'))['balloon.current']) / 1024;
  }

  private async setMemory(targetMiB: number, timeoutMs: number): Promise<Ack> {
    const started = performance.now();
    const before = await this.balloonMiB();
    await virsh(this.uri, ['setmem', this.domain, `${Math.round(targetMiB * 1024)}KiB`, '--live']);
    const after = await pollUntil(() => this.balloonMiB(), (mib) => Math.abs(mib - targetMiB) <= 1, { timeoutMs, intervalMs: 50, what: `the balloon to reach ${targetMiB} MiB` });
    return { acknowledgedAt: performance.now(), metrics: { balloon_before_mib: metric(before, 'MiB'), balloon_after_mib: metric(after, 'MiB'), balloon_ms: metric(performance.now() - started, 'ms') } };
  }

  private dimms: string[] = [];

  private async attachDimm(sizeMiB: number): Promise<Ack & { id: string }> {
    const file = join(this.runDir, `dimm-${this.dimms.length}.xml`);
    writeFileSync(file, dimmXml(sizeMiB));
    await virsh(this.uri, ['attach-device', this.domain, file, '--live']);
    this.dimms.push(file);
    return { id: file, acknowledgedAt: performance.now(), metrics: {}, detail: { sizeMiB, via: 'virsh attach-device --live' } };
  }

  private async detachDimm(): Promise<Ack> {
    const file = this.dimms.pop();
    if (!file) throw new InfrastructureError('NO_DIMM', 'no attached DIMM to detach');
    await virsh(this.uri, ['detach-device', this.domain, file, '--live']);
    return { acknowledgedAt: performance.now(), metrics: {}, detail: { via: 'virsh detach-device --live' } };
  }

  private async correctClock(): Promise<Ack> {
    const drift = async () => Number((await this.agent.command<number>('guest-get-time')) / 1e6 - Date.now());
    const before = await drift();
    await virsh(this.uri, ['domtime', this.domain, '--now']);
    const acknowledgedAt = performance.now();
    return { acknowledgedAt, metrics: { drift_before_ms: metric(before, 'ms'), drift_after_ms: metric(await drift(), 'ms') } };
  }

  /**
   * Away to a slot leased on another host (waiting for one as long as the migration's timeout), or
   * back home, whose slot the cell kept: the away slot is given back once the domain left it.
   */
  private async migrate(destinations: MigrationHosts, options: MigrationOptions): Promise<MigrationReport> {
    const slot = this.away ?? (await destinations.lease(this.uri, options.timeoutMs ?? 60_000, this.stopping.signal));
    const to = this.away ? this.homeUri : slot.uri;
    try {
      return await this.migrateTo(to, options);
    } finally {
      if (this.uri === slot.uri) this.away = slot;
      else {
        this.away = undefined;
        slot.release();
      }
    }
  }

  /**
   * `virsh migrate --live --p2p` to another libvirtd. The destination gets its own channel socket
   * paths (--xml), the port readers move over, the heartbeat gap is measured as on QEMU, and
   * `domjobinfo --completed` gives libvirt's own totals.
   */
  private async migrateTo(targetUri: string, options: MigrationOptions): Promise<MigrationReport> {
    // Calls to the guest wait until the destination took over (or the migration ended without it).
    const reopen = this.handover.begin();
    try {
      // Beats every 5 ms until the migration ended: the downtime's resolution.
      return await this.migrateGated(targetUri, options, await this.heartbeat.measure());
    } finally {
      this.heartbeat.idle();
      reopen();
    }
  }

  private async migrateGated(targetUri: string, options: MigrationOptions, paced: number | undefined): Promise<MigrationReport> {
    const started = performance.now();
    const destinationDir = makeTempDir(`libvirt-${this.name.slice(0, 20)}-m${++this.migrations}-`);
    this.scope.registerTempDir(destinationDir);
    const xml = (await virsh(this.uri, ['dumpxml', '--migratable', this.domain])).split(this.runDir).join(destinationDir);
    const xmlFile = join(destinationDir, 'destination.xml');
    writeFileSync(xmlFile, xml);
    if (options.downtimeLimitMs !== undefined) await virsh(this.uri, ['migrate-setmaxdowntime', this.domain, String(options.downtimeLimitMs)]);
    if (options.maxBandwidthBytesPerSec !== undefined) await virsh(this.uri, ['migrate-setspeed', this.domain, String(Math.max(1, Math.round(options.maxBandwidthBytesPerSec / 2 ** 20)))]);
    const destinationUri = targetUri;
    registerDomain(this.scope, destinationUri, this.domain);
    const watch = new HeartbeatWatch(this.output);
    // Read the destination's ports as soon as its QEMU creates them, so the heartbeat gap is the
    // guest's downtime, not the time it took us to reconnect afterwards.
    const destinationPorts = this.scope.child(`ports-${this.migrations}`);
    const attaching = Promise.all([
      attachPortReader(join(destinationDir, 'app.sock'), 'app', this.output, destinationPorts, 120_000),
      attachPortReader(join(destinationDir, 'heartbeat.sock'), 'heartbeat', this.output, destinationPorts, 120_000),
    ]);
    attaching.catch(() => undefined);
    // A disk: libvirt calls any file on a local filesystem "migration without shared storage", whatever
    // its cache mode. Both QEMUs open the same overlay (its path is private to this harness, so a
    // daemon that does not share our filesystem fails to open it instead of using another file), and
    // cache='writeback' gets the source's writes to it first (domain-xml.ts diskElement).
    const unsafe = /<disk\b/.test(xml) ? ['--unsafe'] : [];
    const args = ['migrate', '--live', '--p2p', ...unsafe, '--xml', xmlFile, ...(options.autoConverge ? ['--auto-converge'] : []), ...(options.postcopy ? ['--postcopy', '--postcopy-after-precopy'] : []), ...(options.timeoutMs ? ['--timeout', String(Math.ceil(options.timeoutMs / 1000)), '--timeout-suspend'] : []), this.domain, destinationUri];
    try {
      await virsh(this.uri, args, { timeoutMs: (options.timeoutMs ?? 120_000) + 30_000 });
    } catch (error) {
      watch.stop();
      await destinationPorts.dispose();
      throw error;
    }
    const completedAt = performance.now();
    // A domain that arrived by migration is transient there and gone once it leaves again, taking
    // the source's record with it: then the destination's record of the incoming job is asked.
    const jobText =
      (await virsh(this.uri, ['domjobinfo', '--completed', this.domain]).catch(() => '')) ||
      (await virsh(destinationUri, ['domjobinfo', '--completed', this.domain]).catch(() => ''));
    const job = parseJobInfo(jobText);
    await this.portScope.dispose();
    this.runDir = destinationDir;
    this.uri = destinationUri;
    this.agent.uri = destinationUri;
    this.forwards?.handOver(destinationUri);
    this.portScope = destinationPorts;
    this.heartbeatPort = (await attaching)[1];
    await this.agent.waitUntilAnswering(30_000);
    await watch.nextBeat(2_000);
    const gap = watch.stop();
    const metrics: Metrics = {
      wall_ms: metric(completedAt - started, 'ms'),
      downtime_heartbeat_ms: metric(gap.largestGapMs, 'ms'),
      ...(paced ? { heartbeat_interval_ms: metric(paced, 'ms') } : {}),
      ...(job.totalMs !== undefined ? { total_ms: metric(job.totalMs, 'ms') } : {}),
      ...(job.downtimeMs !== undefined ? { downtime_qemu_ms: metric(job.downtimeMs, 'ms') } : {}),
      ...(job.setupMs !== undefined ? { setup_ms: metric(job.setupMs, 'ms') } : {}),
      ...(job.dataProcessedBytes !== undefined ? { transferred_bytes: metric(job.dataProcessedBytes, 'bytes') } : {}),
      ...(job.iteration !== undefined ? { passes: metric(job.iteration, 'count') } : {}),
    };
    return { status: 'completed', acknowledgedAt: completedAt, metrics, series: [], detail: { from: 'libvirt', to: destinationUri, domjobinfo: job.raw } };
  }
}
