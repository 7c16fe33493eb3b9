import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ResourceScope } from '../../core/scope.js';
import { DEFAULT_MACHINE, type MachineSpec } from '../../model/machine-spec.js';
import { probeKvm, type KvmProbe } from '../../machines/qemu/accel.js';
import { startQemuMachine, type QemuMachine } from '../../machines/qemu/machine.js';
import { ensureDefaultImage } from '../default-image.js';
import { ensureDistroImage } from './image.js';
import { waitForSystemd } from './settle.js';

const SPEC: MachineSpec = {
  ...DEFAULT_MACHINE,
  cpuModel: 'Nehalem',
  vcpus: 1,
  maxVcpus: 2,
  memoryMiB: 512,
  maxMemoryMiB: 1024,
  memorySlots: 2,
  image: { kind: 'distro', name: 'debian-12', packages: [] },
};

/** A real Debian 12 guest with systemd, booted under QEMU (TCG here) from its cached image. */
describe('debian-12 image', () => {
  const scope = new ResourceScope('debian-image-test');
  let kvm: KvmProbe;
  let machine: QemuMachine;

  beforeAll(async () => {
    kvm = await probeKvm(await ensureDefaultImage());
    // Cold build ~25 s on a quiet host (mmdebstrap from the mirror); cached afterwards.
    await ensureDistroImage('debian-12');
    machine = await startQemuMachine(SPEC, { scope, kvm, name: 'debian-test', bootTimeoutMs: 180_000 });
  }, 600_000);
  afterAll(async () => {
    await scope.dispose();
  });

  it('is cached by content hash: a second request is the same image, without a rebuild', async () => {
    const started = performance.now();
    const image = await ensureDistroImage('debian-12');
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(image.disk).toMatch(/debian-12-[0-9a-f]{16}\/disk\.qcow2$/);
    const info = JSON.parse(readFileSync(join(dirname(image.disk), 'image.json'), 'utf8')) as { packages: string[] };
    expect(info.packages).toEqual(expect.arrayContaining(['systemd-sysv', 'qemu-guest-agent', 'udev', 'util-linux-extra']));
  });

  it('boots systemd to running, with the agent started by udev and hwclock for guest-set-time', async () => {
    expect(await waitForSystemd(machine)).toBe('running');
    const result = await machine.exec(['sh', '-c', 'cat /proc/1/comm; systemctl is-active qemu-guest-agent bw-heartbeat bw-app-output; ls /sbin/hwclock; findmnt -no SOURCE,FSTYPE /']);
    expect(result.stdout.split('\n')).toEqual(['systemd', 'active', 'active', 'active', '/sbin/hwclock', '/dev/vda ext4', '']);
    await machine.agent.setTime(BigInt(Date.UTC(2031, 0, 1)) * 1_000_000n);
    expect((await machine.exec(['date', '-u', '+%Y'])).stdout.trim()).toBe('2031');
    await machine.agent.setTime();
  });

  it('brings up lo and the NIC at the address host ports are forwarded to', async () => {
    const addresses = (await machine.exec(['ip', '-o', '-4', 'addr', 'show'])).stdout;
    expect(addresses).toMatch(/\blo\s+inet 127\.0\.0\.1\/8/);
    expect(addresses).toMatch(/inet 10\.0\.2\.15\/24/);
  });

  it('writes to its own overlay, never to the cached image', async () => {
    const disk = machine.launch.boot.kind === 'kernel' ? machine.launch.boot.disk : undefined;
    expect(disk?.path).toMatch(/overlay\.qcow2$/);
    expect(existsSync(disk!.path)).toBe(true);
    await machine.exec(['sh', '-c', 'echo written > /root/marker && sync']);
    expect((await machine.exec(['cat', '/root/marker'])).stdout).toBe('written\n');
  });

  it('serves the heartbeat and app-output ports like the default guest', async () => {
    await machine.output.waitForLine(/^hb \d+/, 30_000, 'heartbeat');
    // The tools come from the initramfs at boot, the same build the default guest has.
    expect((await machine.exec(['ls', '/opt/bothworlds/bin'])).stdout).toMatch(/bw-dirty-mem\nbw-heartbeat\n/);
    const app = await machine.spawn(['sh', '-c', 'echo hello-from-debian']);
    await app.wait(30_000);
    expect((await machine.output.waitForLine(/hello-from-debian/, 10_000, 'app')).text).toBe('hello-from-debian');
  });

  it('onlines a hot-plugged vCPU and DIMM through its udev rules', async () => {
    await machine.controls.cpus!.plug();
    await expect.poll(async () => (await machine.exec(['nproc'])).stdout.trim(), { timeout: 30_000, interval: 500 }).toBe('2');
    const before = Number(/MemTotal:\s+(\d+)/.exec((await machine.exec(['cat', '/proc/meminfo'])).stdout)![1]);
    await machine.controls.memory!.plug(256);
    await expect
      .poll(async () => Number(/MemTotal:\s+(\d+)/.exec((await machine.exec(['cat', '/proc/meminfo'])).stdout)![1]) - before, { timeout: 30_000, interval: 500 })
      .toBeGreaterThanOrEqual(250 * 1024);
    // online_movable: the DIMM can be unplugged again.
    const zones = (await machine.exec(['sh', '-c', 'cat /sys/devices/system/memory/memory*/valid_zones | sort | uniq -c'])).stdout;
    expect(zones).toMatch(/Movable/);
  });

  it('balloons and live-migrates with its disk (both QEMUs open the same overlay)', async () => {
    const ack = await machine.controls.balloon!.setTargetMiB(384, 60_000);
    expect(ack.acknowledgedAt).toBeGreaterThan(0);
    const report = await machine.controls.migrate!.migrate({ maxBandwidthBytesPerSec: 10 * 1024 ** 3, timeoutMs: 120_000 });
    expect(report.status).toBe('completed');
    // The heartbeat unit's beats were seen on both sides of the switchover: downtime as seen from outside.
    expect(report.metrics.downtime_heartbeat_ms!.value).toBeGreaterThan(0);
    expect(report.metrics.downtime_heartbeat_ms!.value).toBeLessThan(5_000);
    // The destination reads and writes the same disk: what was written before is there.
    expect((await machine.exec(['cat', '/root/marker'])).stdout).toBe('written\n');
    await machine.exec(['sh', '-c', 'echo after > /root/after && sync']);
    expect((await machine.exec(['sh', '-c', 'systemctl is-system-running; nproc'])).stdout).toBe('running\n2\n');
  });
});
