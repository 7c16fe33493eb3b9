import { afterAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { ResourceScope } from '../core/scope.js';
import { DEFAULT_MACHINE } from '../model/machine-spec.js';
import { InfrastructureError } from '../core/errors.js';
import { startQemuMachine } from '../machines/qemu/machine.js';
import { ensureBootDisk } from './testing/boot-disk.js';

/** A user's disk image that does not boot (here: an empty one) under real QEMU. */
describe('a user disk image that does not boot', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-user-image-'));
  const scope = new ResourceScope('user-image-test');
  afterAll(async () => {
    await scope.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails with BOOT_TIMEOUT naming the image, its last console line and what an image needs, and never writes the image', async () => {
    const image = join(dir, 'my.qcow2');
    await execa('qemu-img', ['create', '-q', '-f', 'qcow2', image, '64M']);
    const before = (await execa('sha256sum', [image])).stdout;
    const error = await startQemuMachine({ ...DEFAULT_MACHINE, image: { kind: 'disk', path: image } }, { scope, name: 'user-image', bootTimeoutMs: 6_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InfrastructureError);
    expect((error as InfrastructureError).code).toBe('BOOT_TIMEOUT');
    expect((error as Error).message).toContain(`image ${image}: guest agent did not answer within 6000 ms; last console line:`);
    expect((error as Error).message).toMatch(/qemu-guest-agent on the virtio port org\.qemu\.guest_agent\.0/);
    expect((await execa('sha256sum', [image])).stdout).toBe(before);
    expect((await execa('pgrep', ['-f', 'name user-image'], { reject: false })).stdout).toBe('');
  });
});

/**
 * A real bootable image (harness/images/testing/boot-disk.ts: MBR, syslinux, the default guest's
 * kernel and initramfs on a FAT partition) booted the way a user's is: SeaBIOS, its own bootloader.
 */
describe('a user disk image that boots', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-user-image-boot-'));
  const scope = new ResourceScope('user-image-boot-test');
  afterAll(async () => {
    await scope.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('boots through its own bootloader to the agent, runs a command, and the guest writing its disk never changes the image', { timeout: 180_000 }, async () => {
    // A private copy: a harness bug that wrote the base image would poison only this test, not the cache.
    const image = join(dir, 'boot.qcow2');
    copyFileSync((await ensureBootDisk()).path, image);
    const before = (await execa('sha256sum', [image])).stdout;
    const machine = await startQemuMachine({ ...DEFAULT_MACHINE, image: { kind: 'disk', path: image } }, { scope, name: 'user-image-boot' });
    expect(machine.launch.boot).toMatchObject({ kind: 'disk', format: 'qcow2' });
    expect(machine.output.lines.map((l) => l.text)).toContainEqual(expect.stringMatching(/^SYSLINUX \d/));
    // syslinux names the kernel it loaded; -kernel boots have no BOOT_IMAGE.
    expect((await machine.exec(['cat', '/proc/cmdline'])).stdout).toMatch(/^BOOT_IMAGE=\/vmlinuz console=ttyS0 /);
    // The guest sees its disk and the partition, and writes to it (between the MBR and the partition).
    const write = await machine.exec(['/bin/sh', '-c', 'cat /sys/block/vda/vda1/start && dd if=/dev/urandom of=/dev/vda bs=512 seek=64 count=64 conv=fsync 2>/dev/null && echo written']);
    expect(write).toMatchObject({ exitCode: 0, stdout: '2048\nwritten\n' });
    console.log(`user disk image: boot to a working agent ${machine.startMetrics.boot_ms!.value.toFixed(0)} ms (${machine.accel})`);
    await machine.stop();
    expect((await execa('sha256sum', [image])).stdout).toBe(before);
    expect((await execa('pgrep', ['-f', 'name user-image-boot'], { reject: false })).stdout).toBe('');
  });
});
