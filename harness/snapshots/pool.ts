import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { attachCleanupError, categoryOf, InfrastructureError } from '../core/errors.js';
import { cacheDir } from '../core/cache-dir.js';
import { metric } from '../model/metrics.js';
import type { MachineSpec } from '../model/machine-spec.js';
import { ResourceScope, rootScope } from '../core/scope.js';
import { qemuVersion } from '../machines/qemu/binary.js';
import type { KvmProbe } from '../machines/qemu/accel.js';
import { raceExit, type QemuInstance } from '../machines/qemu/instance.js';
import { prepareQemuLaunch, startQemuMachine, type QemuLaunch, type QemuMachine, type QemuMachineOptions } from '../machines/qemu/machine.js';
import { snapshotIneligible, snapshotKey } from './key.js';
import { cloneLaunch, launchDisk } from './disk-state.js';
import { bootGolden, donateSnapshot, type Snapshot } from './golden.js';
import { loadSnapshot } from './restore.js';
import { stateFileName } from './state-format.js';
import { availableParallelism } from 'node:os';
import { BootGate, CostModel, configurationOf, snapshotPays } from './plan.js';
import { SpareQemus } from './spares.js';
import type { ScheduleEvents } from './schedule.js';

export interface SnapshotPoolOptions {
  /** Where snapshots live; default `<cache>/snapshots`. */
  dir?: string;
  kvm?: KvmProbe;
  /** Owner of golden guests and spare QEMUs (the run's scope): nothing outlives it. */
  scope?: ResourceScope;
  log?: (line: string) => void;
  /** Restored QEMUs brought up ahead of need, at most this many at a time (default 4; 0: none). */
  spares?: number;
  /** Told when a cold boot ends and what each configuration comes to (the runner picks cells by it). */
  schedule?: ScheduleEvents;
}

export interface PooledStartOptions extends Pick<QemuMachineOptions, 'payload' | 'autoOnline' | 'bootTimeoutMs'> {
  scope: ResourceScope;
  name: string;
  /** Boot cold even when a snapshot could serve (a boot-time suite, `--no-snapshot`). */
  coldBoot?: string;
}

/** What the pool decided for one configuration (one snapshot key). */
type Decision =
  | { kind: 'snapshot'; ready: Promise<Snapshot | undefined>; donor?: string; launch: QemuLaunch; remaining: number }
  | { kind: 'cold'; why: string };

/**
 * One snapshot per machine configuration, when it pays: a configuration run by several cells has
 * its first cell's guest saved right after its cold boot (the donor; a guest with a disk gets a
 * separate golden boot instead), and every later cell restores from it into a QEMU started ahead
 * of need. A configuration run by one cell boots cold, unless its snapshot is already cached.
 * A restored clone gets the host's clock, a fresh VM generation ID (its RNG reseeds) and its own
 * hostname. Snapshots are cached on disk by a hash of everything that defines them.
 */
export class SnapshotPool {
  private readonly decisions = new Map<string, Decision>();
  private readonly planned = new Map<string, number>();
  private readonly dir: string;
  private readonly spares: SpareQemus;
  readonly costs = new CostModel();
  private readonly boots = new BootGate(availableParallelism());

  constructor(private readonly options: SnapshotPoolOptions = {}) {
    this.dir = options.dir ?? join(cacheDir(), 'snapshots');
    this.spares = new SpareQemus((options.scope ?? rootScope).child('spare-qemus'), options.spares ?? 4);
  }

  /** The cells a run will start, so the pool knows how many share each configuration (default: many). */
  plan(specs: MachineSpec[]): void {
    for (const spec of specs) {
      const key = configurationOf(spec);
      this.planned.set(key, (this.planned.get(key) ?? 0) + 1);
    }
  }

  async start(spec: MachineSpec, options: PooledStartOptions): Promise<QemuMachine> {
    try {
      return await this.startCell(spec, options);
    } finally {
      this.options.schedule?.bootEnded(options.name);
    }
  }

  private async startCell(spec: MachineSpec, options: PooledStartOptions): Promise<QemuMachine> {
    const launch = await prepareQemuLaunch(spec, { ...options, ...(this.options.kvm ? { kvm: this.options.kvm } : {}) });
    const ineligible = snapshotIneligible(launch);
    if (options.coldBoot || ineligible) {
      // Its siblings boot cold beside it rather than wait for a decision no one will make.
      this.options.schedule?.settle(spec, 'cold', { undecided: !ineligible });
      return this.coldBoot(spec, launch, options, options.coldBoot ?? ineligible!);
    }
    const key = await snapshotKey(launch, (await qemuVersion()).text);
    // No await between looking up and recording the decision: concurrent cells see one decision.
    const decision = this.decisions.get(key) ?? this.decide(key, spec, launch, options.name);
    if (decision.kind === 'cold') return this.coldBoot(spec, launch, options, decision.why);
    decision.remaining--;
    if (decision.donor === options.name) return this.donate(key, spec, launch, options, decision);
    const snapshot = await decision.ready;
    if (!snapshot) return this.coldBoot(spec, launch, options, `the snapshot could not be made (${this.decisions.get(key)?.kind === 'cold' ? 'the save failed' : 'its donor failed'})`);
    try {
      return await this.restore(key, spec, launch, snapshot, options, () => decision.remaining);
    } catch (error) {
      if (categoryOf(error) !== 'infrastructure' || !existsSync(snapshot.file)) throw error;
      // A snapshot QEMU cannot load (truncated, from another build) is dropped and rebuilt next time.
      this.forget(key, snapshot.file);
      this.options.schedule?.settle(spec, 'new');
      this.options.log?.(`snapshot ${key} could not be restored, booting cold: ${(error as Error).message}`);
      return this.coldBoot(spec, launch, options, `snapshot ${key} could not be restored`);
    }
  }

  /** Cached on disk, worth a donor, worth a golden boot, or cold: once per configuration. */
  private decide(key: string, spec: MachineSpec, launch: QemuLaunch, name: string): Decision {
    const cells = this.planned.get(configurationOf(spec)) ?? Number.POSITIVE_INFINITY;
    const cached = this.cached(key);
    const disk = launchDisk(launch) !== undefined;
    const costs = this.costs.costs;
    let decision: Decision;
    if (cached) {
      decision = { kind: 'snapshot', ready: Promise.resolve(cached), launch, remaining: cells };
    } else if (!snapshotPays(cells, disk ? 'golden' : 'donor', costs)) {
      decision = { kind: 'cold', why: `${cells} cell(s) of this configuration: a snapshot would not pay (cold ${costs.coldMs.toFixed(0)} ms, restore ${costs.restoreMs.toFixed(0)} ms, save ${costs.saveMs.toFixed(0)} ms)` };
    } else if (disk) {
      decision = { kind: 'snapshot', ready: this.golden(key, spec, launch), launch, remaining: cells };
    } else {
      let resolve!: (snapshot: Snapshot | undefined) => void;
      decision = { kind: 'snapshot', ready: new Promise((r) => (resolve = r)), donor: name, launch, remaining: cells };
      this.donors.set(key, resolve);
    }
    this.decisions.set(key, decision);
    this.options.schedule?.settle(spec, cached ? 'ready' : decision.kind === 'cold' ? 'cold' : 'pending');
    // `ready` only resolves (undefined when the donor failed); prestart is a best-effort speed-up.
    if (decision.kind === 'snapshot') {
      decision.ready.then(
        (s) => {
          // No snapshot: the donor failed (decision gone: the next cell tries again) or its save did (cold).
          this.options.schedule?.settle(spec, s ? 'ready' : this.decisions.get(key)?.kind === 'cold' ? 'cold' : 'new');
          if (s && !disk && decision.remaining > 0) this.prestart(key, launch, s);
        },
        () => this.options.schedule?.settle(spec, 'new'),
      );
    }
    return decision;
  }

  private readonly donors = new Map<string, (snapshot: Snapshot | undefined) => void>();

  /** The first cell boots cold, then gives its state to the configuration before its app starts. */
  private async donate(key: string, spec: MachineSpec, launch: QemuLaunch, options: PooledStartOptions, decision: Extract<Decision, { kind: 'snapshot' }>): Promise<QemuMachine> {
    const resolve = this.donors.get(key)!;
    this.donors.delete(key);
    let machine: QemuMachine;
    try {
      machine = await this.coldBoot(spec, launch, options, 'it donates the snapshot');
    } catch (error) {
      this.decisions.delete(key);
      resolve(undefined);
      throw error;
    }
    try {
      const { snapshot, saveMs } = await donateSnapshot(machine, spec, key, this.dir);
      this.costs.observe('saveMs', saveMs);
      Object.assign(machine.startMetrics, { snapshot_donated: metric(1, 'bool'), snapshot_save_ms: metric(saveMs, 'ms') });
      this.options.log?.(`snapshot ${key}: saved from ${options.name} in ${saveMs.toFixed(0)} ms (${snapshot.format}), ${decision.remaining} more cell(s) restore from it`);
      resolve(snapshot);
      return machine;
    } catch (error) {
      // The donor may be left stopped half-way: it is dropped, the cell boots cold again.
      resolve(undefined);
      this.decisions.set(key, { kind: 'cold', why: `the snapshot could not be saved: ${(error as Error).message}` });
      this.options.log?.(`snapshot ${key} could not be saved from ${options.name}: ${(error as Error).message}`);
      await machine.stop().catch(() => undefined);
      return this.coldBoot(spec, await prepareQemuLaunch(spec, { ...options, ...(this.options.kvm ? { kvm: this.options.kvm } : {}) }), options, 'the snapshot could not be saved');
    }
  }

  private async golden(key: string, spec: MachineSpec, launch: QemuLaunch): Promise<Snapshot | undefined> {
    const scope = (this.options.scope ?? rootScope).child(`golden-${key}-${randomBytes(2).toString('hex')}`);
    try {
      const made = await this.boots.run(() => bootGolden(spec, launch, key, this.dir, scope));
      this.costs.observe('saveMs', made.saveMs);
      if (made.bootMs !== undefined) this.costs.observe('coldMs', made.bootMs);
      this.options.log?.(`snapshot ${key}: golden guest saved in ${made.saveMs.toFixed(0)} ms (${made.snapshot.format})`);
      return made.snapshot;
    } catch (error) {
      this.decisions.delete(key);
      throw error;
    } finally {
      // Disposing the golden scope tears the guest down whether saving worked or not.
      await scope.dispose();
    }
  }

  private cached(key: string): Snapshot | undefined {
    const folder = join(this.dir, key);
    for (const format of ['mapped-ram', 'stream'] as const) {
      const file = join(folder, stateFileName(format));
      if (existsSync(file)) return { folder, file, format };
    }
    return undefined;
  }

  private prestart(key: string, launch: QemuLaunch, snapshot: Snapshot): void {
    this.spares.prestart(key, launch, async (instance, lines) => {
      const started = performance.now();
      await raceExit(instance.process, loadSnapshot(instance, snapshot.file, snapshot.format), 'snapshot restore', lines);
      const loaded = performance.now();
      await instance.waitForAgent(90_000);
      const synced = performance.now();
      // Host entropy, and a first clock setting (the cell sets it again): warms the guest's code paths.
      await instance.agent!.writeFile('/dev/urandom', randomBytes(64));
      await instance.agent!.setTime();
      const warmed = performance.now();
      // Paused until taken: an idle TCG guest (timer ticks, the 5 ms heartbeat) costs ~11% of a core,
      // taken from the cold boots still running; the warm code paths stay in this QEMU's TCG cache.
      await instance.qmp.execute('stop');
      return { spare_load_ms: loaded - started, spare_agent_ms: synced - loaded, spare_warm_ms: warmed - synced };
    });
  }

  /**
   * A clone: a spare brought up ahead (then only the clock and hostname are the cell's to wait for),
   * or a QEMU started now with `-incoming defer` and loaded. The next spare starts at once.
   */
  private async restore(key: string, spec: MachineSpec, launch: QemuLaunch, snapshot: Snapshot, options: PooledStartOptions, remaining: () => number): Promise<QemuMachine> {
    const started = performance.now();
    const own = await cloneLaunch(launch, snapshot.folder);
    // A clone with a disk has its own overlay in its argv: only diskless configurations have spares.
    const shared = launchDisk(launch) === undefined;
    const spare = shared ? await this.spares.take(key) : undefined;
    // Cells of this configuration not started yet, less the spares already there for them: clones
    // started together (the schedule starts them as the snapshot appears) would otherwise each start one.
    if (shared && remaining() > this.spares.count(key)) this.prestart(key, launch, snapshot);
    if (spare) await spare.instance.qmp.execute('cont');
    const machine = await startQemuMachine(spec, {
      ...options,
      launch: own,
      ...(spare ? { prestarted: spare } : { incoming: 'defer', restore: (instance: QemuInstance) => loadSnapshot(instance, snapshot.file, snapshot.format) }),
    });
    const ready = performance.now();
    let steps: Record<string, number>;
    try {
      steps = await individualise(machine, options.name, { entropy: !spare });
    } catch (error) {
      await machine.stop().catch((cleanupError: unknown) => attachCleanupError(error, cleanupError));
      throw error;
    }
    const restoreMs = performance.now() - started;
    this.costs.observe('restoreMs', restoreMs);
    Object.assign(machine.startMetrics, {
      snapshot_restored: metric(1, 'bool'),
      restore_prestarted: metric(spare ? 1 : 0, 'bool'),
      restore_individualise_ms: metric(performance.now() - ready, 'ms'),
      ...Object.fromEntries(Object.entries({ ...spare?.steps, ...steps }).map(([k, v]) => [k, metric(v, 'ms')])),
      restore_ms: metric(restoreMs, 'ms'),
    });
    return machine;
  }

  private async coldBoot(spec: MachineSpec, launch: QemuLaunch, options: PooledStartOptions, why: string): Promise<QemuMachine> {
    let machine: QemuMachine;
    try {
      machine = await this.boots.run(() => startQemuMachine(spec, { ...options, launch }));
    } finally {
      // A donor's save and its app need no boot slot: the next boot may start now.
      this.options.schedule?.bootEnded(options.name);
    }
    Object.assign(machine.startMetrics, { snapshot_restored: metric(0, 'bool') });
    const bootMs = machine.startMetrics.boot_ms?.value;
    if (bootMs !== undefined) this.costs.observe('coldMs', bootMs);
    this.options.log?.(`${options.name}: cold boot (${why})`);
    return machine;
  }

  private forget(key: string, file: string): void {
    this.decisions.delete(key);
    rmSync(file, { force: true });
  }
}

/**
 * What clones must not share: the clock (the snapshot's is stale), randomness (vmgenid already
 * made the kernel reseed; host entropy is mixed in too) and the hostname. Timed per step.
 */
async function individualise(machine: QemuMachine, name: string, options: { entropy: boolean }): Promise<Record<string, number>> {
  const hostname = name.replace(/[^a-zA-Z0-9-]/g, '-').slice(0, 63);
  const steps: Record<string, number> = {};
  let last = performance.now();
  const step = (label: string): void => {
    const now = performance.now();
    steps[label] = now - last;
    last = now;
  };
  try {
    await machine.agent.setTime();
    step('restore_clock_ms');
    // Plain agent file writes, no process started in the guest.
    await machine.agent.writeFile('/proc/sys/kernel/hostname', hostname);
    step('restore_hostname_ms');
    if (options.entropy) {
      await machine.agent.writeFile('/dev/urandom', randomBytes(64));
      step('restore_entropy_ms');
    }
  } catch (error) {
    throw new InfrastructureError('SNAPSHOT_INDIVIDUALISE', `could not individualise restored guest ${name}`, { cause: error });
  }
  return steps;
}
