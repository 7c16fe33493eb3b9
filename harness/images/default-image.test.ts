import { cpSync, mkdtempSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../core/project-root.js';
import { ResourceScope } from '../core/scope.js';
import { ensureDefaultImage, planDefaultImage, type GuestImage } from './default-image.js';

/** A cold build into a private cache dir, then cache hits and hash changes. */
describe('default guest image', () => {
  const scope = new ResourceScope('default-image-test');
  let cache: string;
  let image: GuestImage;
  let coldMs: number;

  beforeAll(async () => {
    cache = mkdtempSync(join(tmpdir(), 'bw-image-cache-'));
    scope.registerTempDir(cache);
    const started = performance.now();
    image = await ensureDefaultImage({ cacheDir: cache });
    coldMs = performance.now() - started;
  }, 180_000);

  afterAll(async () => {
    expect(await scope.dispose()).toEqual([]);
  });

  it('is an uncompressed ELF vmlinux and an uncompressed newc initramfs', () => {
    const kernel = readFileSync(image.kernel);
    expect(kernel.subarray(0, 4)).toEqual(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
    expect(kernel.length).toBeGreaterThan(10_000_000);
    expect(readFileSync(image.initrd).subarray(0, 6).toString()).toBe('070701');
    expect(image.append).toContain('console=ttyS0');
    expect(image.append).toContain('memhp_default_state=online');
    expect(image.kernelRelease).toMatch(/^\d+\.\d+/);
    console.info(`cold build (tools + image): ${(coldMs / 1000).toFixed(1)} s`);
  });

  it('holds busybox applets, hwclock, qemu-ga with its loader, the modules in order, the tools and the init', async () => {
    const listing = await execa('cpio', ['-it', '--quiet'], { inputFile: image.initrd });
    const files = new Set(listing.stdout.split('\n'));
    for (const path of ['init', 'bin/busybox', 'bin/sh', 'sbin/hwclock', 'sbin/insmod', 'sbin/uevent', 'usr/sbin/qemu-ga', 'lib64/ld-linux-x86-64.so.2', 'etc/inittab', 'etc/bothworlds/rc.sh', 'dev/console', 'opt/bothworlds/bin/bw-heartbeat', 'opt/bothworlds/bin/bw-perf-probe', 'opt/bothworlds/bin/bw-dirty-mem', 'opt/bothworlds/bin/demo-server', 'opt/bothworlds/app']) {
      expect(files.has(path), path).toBe(true);
    }
    const modules = (await execa('sh', ['-c', 'cpio -i --quiet --to-stdout etc/bothworlds/modules < "$1"', 'sh', image.initrd])).stdout.split('\n');
    const position = (name: string): number => modules.indexOf(name);
    for (const name of ['virtio_ring', 'virtio', 'virtio_pci', 'virtio_console', 'virtio_balloon']) {
      expect(files.has(`lib/modules/bothworlds/${name}.ko`), name).toBe(true);
    }
    expect(position('virtio_ring')).toBeLessThan(position('virtio_pci'));
    expect(position('virtio_pci_modern_dev')).toBeLessThan(position('virtio_pci'));
    expect(position('virtio_pci')).toBeLessThan(position('virtio_console'));
    expect(position('failover')).toBeLessThan(position('net_failover'));
    expect(position('net_failover')).toBeLessThan(position('virtio_net'));
  });

  it('is found in the cache on the next call, from any process, in milliseconds and with the same hash', async () => {
    const started = performance.now();
    const again = await ensureDefaultImage({ cacheDir: cache });
    expect(performance.now() - started).toBeLessThan(50);
    expect(again).toEqual(image);
    // A fresh process has no in-process memo: planning alone must find the entry by its hash.
    const plannedAt = performance.now();
    const plan = await planDefaultImage({ cacheDir: cache });
    const planMs = performance.now() - plannedAt;
    expect(plan.hash).toBe(image.hash);
    expect(plan.dir).toBe(join(cache, 'images', `default-${image.hash.slice(0, 16)}`));
    console.info(`cached lookup (no in-process memo): ${planMs.toFixed(0)} ms`);
  });

  it('changes its hash when an input changes, and only then', async () => {
    const rootfs = mkdtempSync(join(tmpdir(), 'bw-rootfs-'));
    scope.registerTempDir(rootfs);
    cpSync(join(projectRoot(), 'guest', 'rootfs'), rootfs, { recursive: true });
    const copy = await planDefaultImage({ cacheDir: cache, guestRootfs: rootfs });
    expect(copy.hash).toBe(image.hash);
    appendFileSync(join(rootfs, 'etc/bothworlds/rc.sh'), 'echo "bothworlds: injected"\n');
    const changed = await planDefaultImage({ cacheDir: cache, guestRootfs: rootfs });
    expect(changed.hash).not.toBe(image.hash);
    writeFileSync(join(rootfs, 'etc/bothworlds/extra'), 'x');
    const added = await planDefaultImage({ cacheDir: cache, guestRootfs: rootfs });
    expect(new Set([image.hash, changed.hash, added.hash]).size).toBe(3);
  });
});
