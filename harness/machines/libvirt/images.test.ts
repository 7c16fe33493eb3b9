import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { XMLParser } from 'fast-xml-parser';
import { ResourceScope } from '../../core/scope.js';
import { projectRoot } from '../../core/project-root.js';
import { DEFAULT_MACHINE, type MachineSpec } from '../../model/machine-spec.js';
import { ensureDefaultImage } from '../../images/default-image.js';
import { createOverlay } from '../../images/overlay.js';
import { defineCell } from '../../programmatic.js';
import { buildDomainXml } from './domain-xml.js';
import { startLibvirtForCell } from './for-cell.js';
import { startLibvirtMachine } from './start.js';
import { instanceUri, virsh } from './virsh.js';

const A = instanceUri('a');
const B = instanceUri('b');

describe('domain XML of a guest with a disk', () => {
  const channels = { app: '/r/app.sock', heartbeat: '/r/hb.sock', consoleLog: '/r/console.log' };
  const disk = { path: '/t/boot.qcow2.overlay.qcow2', format: 'qcow2' as const };
  const parse = (xml: string) => new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml) as { domain: Record<string, any> };

  it('boots a user disk by firmware: <boot dev="hd"/>, no kernel, the overlay as virtio vda (qcow2, writeback)', () => {
    const { domain } = parse(buildDomainXml(DEFAULT_MACHINE, { name: 'd', accel: 'tcg', boot: { disk }, channels }));
    expect(domain.os.boot).toEqual({ dev: 'hd' });
    expect(domain.os.kernel).toBeUndefined();
    expect(domain.devices.disk).toEqual({ type: 'file', device: 'disk', driver: { name: 'qemu', type: 'qcow2', cache: 'writeback' }, source: { file: disk.path }, target: { dev: 'vda', bus: 'virtio' } });
  });

  it('boots a kernel with its root disk (debian-12), and a kernel alone without any disk', () => {
    const kernel = { kernel: '/k', initrd: '/i', cmdline: 'root=/dev/vda' };
    const withDisk = parse(buildDomainXml(DEFAULT_MACHINE, { name: 'd', accel: 'tcg', boot: { ...kernel, disk }, channels })).domain;
    expect(withDisk.os).toMatchObject({ kernel: '/k', initrd: '/i', cmdline: 'root=/dev/vda' });
    expect(withDisk.os.boot).toBeUndefined();
    expect(withDisk.devices.disk.source.file).toBe(disk.path);
    expect(parse(buildDomainXml(DEFAULT_MACHINE, { name: 'd', accel: 'tcg', boot: kernel, channels })).domain.devices.disk).toBeUndefined();
  });
});

/** Real libvirtd instances a and b (scripts/services/libvirtd.sh), real guests under TCG. */
describe('a guest disk on libvirt', () => {
  const scope = new ResourceScope('libvirt-images-test');
  const dir = mkdtempSync(join(tmpdir(), 'bw-libvirt-disk-'));

  beforeAll(async () => {
    await execa('bash', ['scripts/services/libvirtd.sh'], { cwd: projectRoot() });
  });
  afterAll(async () => {
    await scope.dispose();
    rmSync(dir, { recursive: true, force: true });
    for (const uri of [A, B]) expect((await virsh(uri, ['list', '--all', '--name'])).trim()).not.toContain('bw-lv-disk');
  });

  // Cheap: the default guest (no root disk) with a blank overlay as vda, so the disk's coherence
  // across daemons is checked without a 25 s systemd boot. The guest's page cache is dropped before
  // each read, so the bytes come from the destination QEMU's view of the file.
  it('keeps what the guest wrote to its disk across a migration a→b and back (--unsafe: same file, one host)', { timeout: 240_000 }, async () => {
    const image = await ensureDefaultImage();
    const base = join(dir, 'blank.qcow2');
    await execa('qemu-img', ['create', '-q', '-f', 'qcow2', base, '16M']);
    const disk = { path: await createOverlay(base, dir), format: 'qcow2' as const };
    const spec: MachineSpec = { ...DEFAULT_MACHINE, cpuModel: 'Nehalem', vcpus: 1, maxVcpus: 1, memoryMiB: 384 };
    const machine = await startLibvirtMachine(spec, { kernel: image.kernel, initrd: image.initrd, cmdline: image.append, disk }, { scope, accel: 'tcg', uri: A, name: 'lv-disk', migrationTargetUri: B });
    const sh = async (script: string) => {
      const result = await machine.exec(['/bin/sh', '-c', script], { timeoutMs: 30_000 });
      expect(result.exitCode, result.stderr).toBe(0);
      return result.stdout.trim();
    };
    const read = 'echo 3 > /proc/sys/vm/drop_caches && dd if=/dev/vda bs=64k count=4 2>/dev/null | sha256sum';
    const written = await sh('dd if=/dev/urandom of=/dev/vda bs=64k count=4 conv=fsync 2>/dev/null && ' + read);
    const marker = 'dd if=/dev/vda bs=512 skip=1024 count=1 2>/dev/null | head -1';
    for (const to of [B, A]) {
      const report = await machine.controls.migrate!.migrate({ maxBandwidthBytesPerSec: 1024 ** 3 });
      expect(report.status).toBe('completed');
      expect(machine.uri).toBe(to);
      expect(await sh(read)).toBe(written);
      if (to === B) await sh('echo written-on-b | dd of=/dev/vda bs=512 seek=1024 conv=fsync 2>/dev/null');
    }
    // What the guest wrote on b is what it reads back on a.
    expect(await sh(marker)).toBe('written-on-b');
    await machine.stop();
    expect((await virsh(A, ['list', '--all', '--name'])).trim()).not.toContain('bw-lv-disk');
  });

  // A user's kernel (here the default guest's own kernel and initramfs, named as a user would) goes
  // through the cell path, with its command line and the cell's kernelAppend.
  it('boots a user kernel as a matrix cell: its command line and the cell\'s kernelAppend reach the guest', { timeout: 180_000 }, async () => {
    const image = await ensureDefaultImage();
    const cell = defineCell({
      backend: 'libvirt',
      machine: { cpuModel: 'Nehalem', vcpus: 1, memoryMiB: 384, image: { kind: 'kernel', kernel: image.kernel, initrd: image.initrd, append: image.append }, kernelAppend: 'bw.test=user-kernel' },
      app: { command: ['true'] },
    });
    const cellScope = scope.child('user-kernel');
    const machine = await startLibvirtForCell(cell, { scope: cellScope, files: [], kvm: { usable: false, reason: 'TCG in tests', probeMs: 0 } });
    const cmdline = (await machine.exec(['cat', '/proc/cmdline'])).stdout.trim();
    expect(cmdline).toBe(`${image.append} bw.test=user-kernel`);
    await cellScope.dispose();
    expect((await virsh(machine.uri, ['list', '--all', '--name'])).split('\n')).not.toContain(machine.domain);
  });
});
