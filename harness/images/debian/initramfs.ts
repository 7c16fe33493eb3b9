import { chmodSync, copyFileSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import { projectRoot } from '../../core/project-root.js';
import { buildAtomically } from '../atomic-dir.js';
import { packCpio } from '../cpio.js';
import { combineHashes, FileHashMemo } from '../hash.js';
import { modulesInOrder, type HostKernel } from '../kernel.js';
import { markUsed } from '../prune.js';

const BUSYBOX = '/bin/busybox';
const INITRD_VERSION = '2';
/**
 * What mounting the root needs from modules in Debian's kernel: the virtio PCI transport, the block
 * device, ext4 and its checksums (crc32c is requested by name at mount time, so load it up front:
 * there is no modprobe here). Everything else is loaded by udev from the image's own /lib/modules.
 */
const ROOT_MODULES = ['virtio_ring', 'virtio', 'virtio_pci_modern_dev', 'virtio_pci_legacy_dev', 'virtio_pci', 'virtio_blk', 'crc32c_generic', 'crc32c_intel', 'crc16', 'mbcache', 'jbd2', 'ext4'];
const APPLETS = ['sh', 'mount', 'umount', 'insmod', 'sleep', 'poweroff', 'mkdir', 'cp', 'find', 'cat', 'switch_root'];

/**
 * Path of the small initramfs that mounts /dev/vda, copies bothworlds' static tools into the root and
 * switch_roots to systemd; cached per kernel, init script and tools.
 */
export async function ensureRootInitramfs(kernel: HostKernel, tools: string[], cacheRoot: string): Promise<string> {
  const init = join(projectRoot(), 'harness', 'images', 'debian', 'initramfs', 'init');
  const modules = modulesInOrder(kernel.modulesDir, ROOT_MODULES);
  const memo = new FileHashMemo(join(cacheRoot, 'file-hashes.json'));
  const parts: Record<string, string> = { version: INITRD_VERSION, init: await memo.hash(init), busybox: await memo.hash(BUSYBOX), release: kernel.release };
  for (const module of modules) parts[module] = await memo.hash(join(kernel.modulesDir, module));
  for (const tool of tools) parts[`tool:${basename(tool)}`] = await memo.hash(tool);
  memo.save();
  const dir = join(cacheRoot, 'images', `debian-initrd-${combineHashes(parts).slice(0, 16)}`);
  if (existsSync(dir)) {
    markUsed(dir);
    return join(dir, 'initrd.cpio');
  }
  await buildAtomically(dir, async (temp) => {
    const staging = join(temp, 'rootfs');
    for (const sub of ['bin', 'bw/bin', 'bw/modules', 'proc', 'sys', 'dev', 'opt/bothworlds/bin']) mkdirSync(join(staging, sub), { recursive: true });
    for (const tool of tools) {
      copyFileSync(tool, join(staging, 'opt/bothworlds/bin', basename(tool)));
      chmodSync(join(staging, 'opt/bothworlds/bin', basename(tool)), 0o755);
    }
    copyFileSync(BUSYBOX, join(staging, 'bin/busybox'));
    chmodSync(join(staging, 'bin/busybox'), 0o755);
    for (const applet of APPLETS) symlinkSync('/bin/busybox', join(staging, 'bw/bin', applet));
    copyFileSync(init, join(staging, 'init'));
    chmodSync(join(staging, 'init'), 0o755);
    const names: string[] = [];
    for (const module of modules) {
      const name = basename(module).replace(/\.ko.*$/, '');
      const source = join(kernel.modulesDir, module);
      const target = join(staging, 'bw/modules', `${name}.ko`);
      if (/\.ko\.xz$/.test(module)) writeFileSync(target, (await execa('xz', ['-dc', source], { encoding: 'buffer' })).stdout);
      else copyFileSync(source, target);
      names.push(name);
    }
    writeFileSync(join(staging, 'bw/modules.list'), `${names.join('\n')}\n`);
    // The kernel opens /dev/console for init before devtmpfs is mounted.
    await execa('mknod', ['-m', '600', join(staging, 'dev/console'), 'c', '5', '1'], { reject: false });
    await packCpio(staging, join(temp, 'initrd.cpio'));
    rmSync(staging, { recursive: true, force: true });
  });
  return join(dir, 'initrd.cpio');
}
