import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { attachCleanupError, categoryOf, InfrastructureError } from '../core/errors.js';
import { cacheDir } from '../core/cache-dir.js';
import { metric } from '../model/metrics.js';
import type { MachineSpec } from '../model/machine-spec.js';
import { ResourceScope, rootScope } from '../run/resources.js';
import { qemuVersion } from '../machines/qemu/binary.js';
import type { KvmProbe } from '../machines/qemu/accel.js';
import { prepareQemuLaunch, startQemuMachine, type QemuLaunch, type QemuMachine, type QemuMachineOptions } from '../machines/qemu/machine.js';
import { snapshotIneligible, snapshotKey } from './key.js';
import { saveSnapshot, shellQuote } from './save.js';
import { cloneLaunch, keepGoldenDisk, launchDisk } from './disk-state.js';
import { waitForSystemd } from '../images/debian/settle.js';

export interface SnapshotPoolOptions {
  /** Where snapshots live; default `<cache>/snapshots`. */
  dir?: string;
  kvm?: KvmProbe;
  /** Owner of golden guests while they boot (they are stopped as soon as they are saved). */
  scope?: ResourceScope;
  log?: (line: string) => void;
}

export interface PooledStartOptions extends Pick<QemuMachineOptions, 'payload' | 'autoOnline' | 'bootTimeoutMs'> {
  scope: ResourceScope;
  name: string;
  /** Boot cold even when a snapshot could serve (a boot-time suite, `--no-snapshot`). */
  coldBoot?: string;
}

/**
 * Boot once per machine configuration, restore every cell from that golden snapshot. A restored
 * clone gets the host's clock, a fresh VM generation ID (its RNG reseeds) and its own hostname.
 * Snapshots are cached on disk by a hash of everything that defines them.
 */
export class SnapshotPool {
  private readonly golden = new Map<string, Promise<string>>();
  private readonly dir: string;

  constructor(private readonly options: SnapshotPoolOptions = {}) {
    this.dir = options.dir ?? join(cacheDir(), 'snapshots');
  }

  async start(spec: MachineSpec, options: PooledStartOptions): Promise<QemuMachine> {
    const launch = await prepareQemuLaunch(spec, { ...options, ...(this.options.kvm ? { kvm: this.options.kvm } : {}) });
    const whyCold = options.coldBoot ?? snapshotIneligible(launch);
    if (whyCold) return this.coldBoot(spec, launch, options, whyCold);
    const key = await snapshotKey(launch, (await qemuVersion()).text);
    const file = await this.ensureSnapshot(key, spec, launch);
    try {
      return await this.restore(spec, launch, file, options);
    } catch (error) {
      if (categoryOf(error) !== 'infrastructure' || !existsSync(file)) throw error;
      // A snapshot QEMU cannot load (truncated, from another build) is dropped and rebuilt next time.
      this.forget(key, file);
      this.options.log?.(`snapshot ${key} could not be restored, booting cold: ${(error as Error).message}`);
      return this.coldBoot(spec, launch, options, `snapshot ${key} could not be restored`);
    }
  }

  /** The snapshot file for a configuration, booting and saving a golden guest once if needed. */
  ensureSnapshot(key: string, spec: MachineSpec, launch: QemuLaunch): Promise<string> {
    let pending = this.golden.get(key);
    if (!pending) {
      pending = this.createSnapshot(key, spec, launch);
      pending.catch(() => this.golden.delete(key));
      this.golden.set(key, pending);
    }
    return pending;
  }

  private async createSnapshot(key: string, spec: MachineSpec, launch: QemuLaunch): Promise<string> {
    const folder = join(this.dir, key);
    const file = join(folder, 'state');
    if (existsSync(file)) return file;
    mkdirSync(folder, { recursive: true });
    const scope = (this.options.scope ?? rootScope).child(`golden-${key}`);
    try {
      const machine = await startQemuMachine(spec, { scope, name: `golden-${key.slice(0, 8)}`, launch });
      // The guest is up when a command runs, not merely when the agent syncs; a systemd guest when it finished booting.
      await machine.exec(['true'], { timeoutMs: 30_000 });
      if (spec.image.kind === 'distro') await waitForSystemd(machine);
      // With a disk, the state is renamed into place only once the disk is beside it: a reader never sees one without the other.
      const disk = launchDisk(launch);
      const saved = await saveSnapshot(machine, disk ? `${file}.pending` : file);
      writeFileSync(
        join(folder, 'meta.json'),
        `${JSON.stringify({ key, createdAt: new Date().toISOString(), qemu: (await qemuVersion()).text, spec, bytes: saved.bytes, saveMs: saved.saveMs, bootMs: machine.startMetrics.boot_ms?.value }, null, 2)}\n`,
      );
      this.options.log?.(`snapshot ${key}: ${(saved.bytes / 2 ** 20).toFixed(0)} MiB saved in ${saved.saveMs.toFixed(0)} ms`);
      await machine.stop();
      if (disk) {
        keepGoldenDisk(launch, folder);
        renameSync(`${file}.pending`, file);
      }
      return file;
    } finally {
      // Disposing the golden scope tears the guest down whether saving worked or not.
      await scope.dispose();
    }
  }

  private async restore(spec: MachineSpec, launch: QemuLaunch, file: string, options: PooledStartOptions): Promise<QemuMachine> {
    const started = performance.now();
    const own = await cloneLaunch(launch, dirname(file));
    const machine = await startQemuMachine(spec, { ...options, launch: own, incoming: `exec:cat ${shellQuote(file)}` });
    try {
      await individualise(machine, options.name);
    } catch (error) {
      await machine.stop().catch((cleanupError: unknown) => attachCleanupError(error, cleanupError));
      throw error;
    }
    Object.assign(machine.startMetrics, {
      snapshot_restored: metric(1, 'bool'),
      restore_ms: metric(performance.now() - started, 'ms'),
    });
    return machine;
  }

  private async coldBoot(spec: MachineSpec, launch: QemuLaunch, options: PooledStartOptions, why: string): Promise<QemuMachine> {
    const machine = await startQemuMachine(spec, { ...options, launch });
    Object.assign(machine.startMetrics, { snapshot_restored: metric(0, 'bool') });
    this.options.log?.(`${options.name}: cold boot (${why})`);
    return machine;
  }

  private forget(key: string, file: string): void {
    this.golden.delete(key);
    rmSync(file, { force: true });
  }
}

/**
 * What clones must not share: the clock (the snapshot's is stale), randomness (vmgenid already
 * made the kernel reseed; host entropy is mixed in too) and the hostname.
 */
async function individualise(machine: QemuMachine, name: string): Promise<void> {
  const hostname = name.replace(/[^a-zA-Z0-9-]/g, '-').slice(0, 63);
  try {
    await machine.agent.setTime();
    // Plain agent file writes, no process started in the guest: a fork+exec costs ~100 ms under TCG.
    await machine.agent.writeFile('/proc/sys/kernel/hostname', hostname);
    await machine.agent.writeFile('/dev/urandom', randomBytes(64));
  } catch (error) {
    throw new InfrastructureError('SNAPSHOT_INDIVIDUALISE', `could not individualise restored guest ${name}`, { cause: error });
  }
}
