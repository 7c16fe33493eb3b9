import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { ResourceScope } from '../core/scope.js';
import { DEFAULT_MACHINE, type MachineSpec } from '../model/machine-spec.js';
import { ensureDefaultImage } from '../images/default-image.js';
import { ensureDistroImage } from '../images/debian/image.js';
import { probeKvm, type KvmProbe } from '../machines/qemu/accel.js';
import type { QemuMachine } from '../machines/qemu/machine.js';
import { SnapshotPool } from './pool.js';

const SPEC: MachineSpec = { ...DEFAULT_MACHINE, cpuModel: 'Nehalem', vcpus: 1, maxVcpus: 2, memoryMiB: 512, image: { kind: 'distro', name: 'debian-12', packages: [] } };

function overlayOf(machine: QemuMachine): string {
  if (machine.launch.boot.kind !== 'kernel' || !machine.launch.boot.disk) throw new Error('no disk');
  return machine.launch.boot.disk.path;
}

/** Snapshots of a guest with a root disk: RAM state plus the golden guest's overlay, one fresh overlay per clone. */
describe('snapshot pool with a disk image', () => {
  const scope = new ResourceScope('disk-snapshot-test');
  const dir = mkdtempSync(join(tmpdir(), 'bw-disk-snapshots-'));
  let kvm: KvmProbe;
  let pool: SnapshotPool;
  let first: QemuMachine;
  let second: QemuMachine;

  beforeAll(async () => {
    kvm = await probeKvm(await ensureDefaultImage());
    await ensureDistroImage('debian-12');
    pool = new SnapshotPool({ dir, kvm, scope });
    first = await pool.start(SPEC, { scope, name: 'disk-clone-a' });
    second = await pool.start(SPEC, { scope, name: 'disk-clone-b' });
  }, 600_000);
  afterAll(async () => {
    await scope.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('saves the golden guest disk beside its RAM state and restores clones from both', async () => {
    const [key] = readdirSync(dir);
    // The RAM state is `state.mapped-ram` where QEMU has mapped-ram (10.0), `state` where not (7.2).
    expect(readdirSync(join(dir, key!)).sort()).toEqual(expect.arrayContaining(['disk.qcow2', expect.stringMatching(/^state(\.mapped-ram)?$/)]));
    for (const machine of [first, second]) {
      expect(machine.startMetrics.snapshot_restored).toEqual({ value: 1, unit: 'bool' });
      const info = JSON.parse((await execa('qemu-img', ['info', '-U', '--output=json', overlayOf(machine)])).stdout) as { 'full-backing-filename': string };
      expect(info['full-backing-filename']).toBe(join(dir, key!, 'disk.qcow2'));
    }
    expect(overlayOf(first)).not.toBe(overlayOf(second));
  });

  it('resumes systemd as it was saved: running, the agent and heartbeat units active', async () => {
    const state = await first.exec(['sh', '-c', 'systemctl is-system-running; systemctl is-active qemu-guest-agent bw-heartbeat']);
    expect(state.stdout).toBe('running\nactive\nactive\n');
    await first.output.waitForLine(/^hb \d+/, 30_000, 'heartbeat');
  });

  it('gives every clone its own disk writes', async () => {
    await first.exec(['sh', '-c', 'echo a > /root/only-in-a && sync']);
    expect((await second.exec(['sh', '-c', 'ls /root/only-in-a 2>&1 || true'])).stdout).toMatch(/No such file/);
    expect((await first.exec(['cat', '/root/only-in-a'])).stdout).toBe('a\n');
  });

  it('live-migrates a restored clone with its overlay', async () => {
    const report = await first.controls.migrate!.migrate({ maxBandwidthBytesPerSec: 10 * 1024 ** 3, timeoutMs: 120_000 });
    expect(report.status).toBe('completed');
    expect((await first.exec(['cat', '/root/only-in-a'])).stdout).toBe('a\n');
    expect(existsSync(overlayOf(first))).toBe(true);
  });
});
