import { createReadStream, createWriteStream, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rm, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { execa } from 'execa';
import { InfrastructureError } from '../../core/errors.js';
import { cacheDir } from '../../core/cache-dir.js';
import { buildAtomically } from '../atomic-dir.js';
import { ensureDefaultImage } from '../default-image.js';
import { combineHashes, FileHashMemo } from '../hash.js';
import { findGuestKernel } from '../kernel.js';
import { markUsed, pruneEntries } from '../prune.js';

/**
 * A real bootable disk image standing for a user's own (`image: ./my.qcow2`), for tests: an MBR
 * (syslinux's mbr.bin), one active FAT16 partition holding syslinux, the default guest's Debian
 * bzImage and initramfs, and a syslinux.cfg booting them with the default guest's command line.
 * QEMU boots it like any user image: SeaBIOS, the MBR, syslinux, the kernel. The default guest's
 * init lives entirely in its initramfs (it never mounts a root disk), so it runs unchanged when a
 * bootloader loads it from a disk: qemu-ga, the heartbeat and app ports, hot-plug onlining.
 * Built without mounting anything: mkfs.fat on a file, mtools to fill it, `syslinux --install`
 * (which uses mtools), sfdisk on the whole-disk file, then `qemu-img convert`.
 */
export interface BootDisk {
  /** The qcow2 image; never written by the harness (each guest boots an overlay on it). */
  path: string;
  hash: string;
  /** The kernel command line syslinux.cfg passes. */
  append: string;
  /** How long the build took, or 0 when the cached image was used. */
  buildMs: number;
}

const BUILDER_VERSION = '1';
const MBR = '/usr/lib/syslinux/mbr/mbr.bin';
const SYSLINUX = '/usr/bin/syslinux';
/** The partition starts at 1 MiB, as partitioning tools align it. */
const PARTITION_OFFSET_MIB = 1;

const inProcess = new Map<string, Promise<BootDisk>>();

/** The test boot disk, built once per set of inputs into the project's cache (`images/boot-disk-<hash>`). */
export function ensureBootDisk(options: { cacheDir?: string; log?: (line: string) => void } = {}): Promise<BootDisk> {
  const root = options.cacheDir ?? cacheDir();
  let pending = inProcess.get(root);
  if (!pending) {
    pending = buildBootDisk(root, options.log ?? (() => undefined));
    pending.catch(() => inProcess.delete(root));
    inProcess.set(root, pending);
  }
  return pending;
}

async function buildBootDisk(root: string, log: (line: string) => void): Promise<BootDisk> {
  for (const needed of [MBR, SYSLINUX]) {
    if (!existsSync(needed)) throw new InfrastructureError('IMAGE_BUILD', `${needed} is missing: run scripts/setup.sh (installs syslinux, syslinux-common, mtools, dosfstools, fdisk)`);
  }
  const image = await ensureDefaultImage({ cacheDir: root });
  const kernel = findGuestKernel();
  if (kernel.release !== image.kernelRelease) {
    throw new InfrastructureError('IMAGE_BUILD', `the default image's kernel is ${image.kernelRelease} but /boot's newest is ${kernel.release}: rebuild the default image`);
  }
  const memo = new FileHashMemo(join(root, 'file-hashes.json'));
  // The default image's hash covers its kernel, initramfs and command line; syslinux's files are what is added.
  const hash = combineHashes({ builder: BUILDER_VERSION, defaultImage: image.hash, mbr: await memo.hash(MBR), syslinux: await memo.hash(SYSLINUX) });
  memo.save();
  const dir = join(root, 'images', `boot-disk-${hash.slice(0, 16)}`);
  const path = join(dir, 'boot.qcow2');
  if (existsSync(dir)) {
    markUsed(dir);
    return { path, hash, append: image.append, buildMs: 0 };
  }
  const started = performance.now();
  await buildAtomically(dir, async (temp) => {
    const partition = join(temp, 'partition.raw');
    const disk = join(temp, 'disk.raw');
    const { size: kernelBytes } = await stat(kernel.bzImage);
    const { size: initrdBytes } = await stat(image.initrd);
    // Room for the files, FAT and ldlinux (~2 MiB), rounded up to whole MiB.
    const partitionMiB = Math.ceil((kernelBytes + initrdBytes) / 2 ** 20) + 2;
    await run('mkfs.fat', ['-C', '-F', '16', '-n', 'BWBOOT', partition, String(partitionMiB * 1024)]);
    writeFileSync(join(temp, 'syslinux.cfg'), syslinuxConfig(image.append));
    for (const [from, to] of [[kernel.bzImage, 'vmlinuz'], [image.initrd, 'initrd.img'], [join(temp, 'syslinux.cfg'), 'syslinux.cfg']] as const) {
      await run('mcopy', ['-i', partition, from, `::/${to}`]);
    }
    await run(SYSLINUX, ['--install', partition]);
    await execa('truncate', ['-s', `${partitionMiB + PARTITION_OFFSET_MIB}M`, disk]);
    // One active FAT16 (LBA) partition from 1 MiB to the end; sfdisk works on a plain file.
    await run('sfdisk', ['--quiet', disk], `start=${PARTITION_OFFSET_MIB * 2048}, type=e, bootable\n`);
    await spliceInto(disk, MBR, 0, 440); // boot code only: the partition table follows at 446
    await spliceInto(disk, partition, PARTITION_OFFSET_MIB * 2 ** 20);
    await run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', disk, join(temp, 'boot.qcow2')]);
    writeFileSync(join(temp, 'image.json'), `${JSON.stringify({ hash, defaultImage: image.hash, kernelRelease: kernel.release, append: image.append, builtAt: new Date().toISOString() }, null, 2)}\n`);
    for (const scratch of [partition, disk]) await rm(scratch, { force: true });
  });
  const buildMs = performance.now() - started;
  log(`test boot disk built in ${(buildMs / 1000).toFixed(1)} s: ${path}`);
  pruneEntries(join(root, 'images'), { prefix: 'boot-disk-', keep: 2, minIdleMs: 60 * 60 * 1000 });
  return { path, hash, append: image.append, buildMs };
}

/** Boot the one entry at once (no prompt), saying so on the serial console, where a failed boot is diagnosed. */
function syslinuxConfig(append: string): string {
  return ['SERIAL 0 115200', 'DEFAULT bothworlds', 'PROMPT 0', 'TIMEOUT 0', 'LABEL bothworlds', '  LINUX /vmlinuz', '  INITRD /initrd.img', `  APPEND ${append}`, ''].join('\n');
}

/** Copy `source` (its first `length` bytes) into `target` at `offset`, in place. */
async function spliceInto(target: string, source: string, offset: number, length?: number): Promise<void> {
  await pipeline(createReadStream(source, length === undefined ? {} : { end: length - 1 }), createWriteStream(target, { flags: 'r+', start: offset }));
}

async function run(command: string, args: string[], input?: string): Promise<void> {
  const result = await execa(command, args, { reject: false, ...(input === undefined ? {} : { input }) });
  if (result.exitCode !== 0) {
    throw new InfrastructureError('IMAGE_BUILD', `building the test boot disk: ${command} ${args.join(' ')} failed (${result.exitCode ?? result.signal}): ${`${result.stderr}`.trim() || `${result.stdout}`.trim()} (run scripts/setup.sh: syslinux, mtools, dosfstools, fdisk)`);
  }
}
