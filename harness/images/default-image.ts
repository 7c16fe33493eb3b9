import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { execa } from 'execa';
import { InfrastructureError } from '../core/errors.js';
import { cacheDir } from '../core/cache-dir.js';
import { projectRoot } from '../core/project-root.js';
import { buildAtomically } from './atomic-dir.js';
import { packCpio } from './cpio.js';
import { combineHashes, FileHashMemo, listFiles } from './hash.js';
import { extractVmlinux, findGuestKernel, modulesInOrder, type HostKernel } from './kernel.js';
import { sharedLibraries } from './libraries.js';
import { markUsed, pruneEntries } from './prune.js';
import { ensureTools, type GuestTools } from './tools.js';

export interface GuestImage {
  /** Uncompressed vmlinux, booted through PVH. */
  kernel: string;
  /** Uncompressed newc initramfs. */
  initrd: string;
  /** The kernel command line this image needs. */
  append: string;
  hash: string;
  kernelRelease: string;
}

const BUILDER_VERSION = '4';
/** Old images (~80 MB each) kept after a rebuild, and how long one must be unused before removal. */
const KEEP_IMAGES = 3;
const PRUNE_IDLE_MS = 60 * 60 * 1000;
const BUSYBOX = '/bin/busybox';
const QEMU_GA = '/usr/sbin/qemu-ga';
/** virtio transport, console (agent/app/heartbeat ports), balloon, block and net, in load order. */
const MODULES = ['virtio_ring', 'virtio', 'virtio_pci_modern_dev', 'virtio_pci_legacy_dev', 'virtio_pci', 'virtio_console', 'virtio_balloon', 'failover', 'net_failover', 'virtio_net', 'virtio_blk'];
/**
 * quiet: the serial console is slow under TCG. memhp_default_state=online_movable: hot-plugged
 * DIMMs come online by themselves, in ZONE_MOVABLE so they can be unplugged again (plain `online`
 * puts kernel allocations there and the guest refuses device_del). swiotlb=noforce: no 64 MiB
 * bounce buffer eating MemTotal when maxmem is set.
 */
const APPEND = 'console=ttyS0 quiet rdinit=/init memhp_default_state=online_movable swiotlb=noforce';

export interface DefaultImageOptions {
  cacheDir?: string;
  log?: (line: string) => void;
  /** The guest's own files (init scripts); default `guest/rootfs` of this checkout. For tests. */
  guestRootfs?: string;
}

/** What the default image is made of, and where its cache entry lives. */
export interface DefaultImagePlan {
  hash: string;
  dir: string;
  kernel: HostKernel;
  tools: GuestTools;
  modules: string[];
  libraries: string[];
  rootfs: string;
}

const inProcess = new Map<string, Promise<GuestImage>>();

/**
 * The default guest, built from this host's Debian packages: the Debian kernel as vmlinux, and an
 * initramfs with static busybox, qemu-ga and its libraries, the virtio modules, bothworlds' init
 * and tools. Cached by a hash of every input; rebuilt only when one changes.
 */
export function ensureDefaultImage(options: DefaultImageOptions = {}): Promise<GuestImage> {
  const root = options.cacheDir ?? cacheDir();
  const key = `${root}\0${options.guestRootfs ?? ''}`;
  let pending = inProcess.get(key);
  if (!pending) {
    pending = buildDefaultImage(root, options);
    pending.catch(() => inProcess.delete(key));
    inProcess.set(key, pending);
  }
  return pending;
}

/** Hash every input of the default image (cheap when nothing changed: hashes are memoised by stat). */
export async function planDefaultImage(options: DefaultImageOptions = {}): Promise<DefaultImagePlan> {
  const root = options.cacheDir ?? cacheDir();
  for (const needed of [BUSYBOX, QEMU_GA]) {
    if (!existsSync(needed)) throw new InfrastructureError('IMAGE_BUILD', `${needed} is missing: run scripts/setup.sh (installs busybox-static and qemu-guest-agent)`);
  }
  const kernel = findGuestKernel();
  const tools = await ensureTools({ cacheDir: root });
  const modules = modulesInOrder(kernel.modulesDir, MODULES);
  const rootfs = options.guestRootfs ?? join(projectRoot(), 'guest', 'rootfs');
  const libraries = await sharedLibraries(QEMU_GA);
  const memo = new FileHashMemo(join(root, 'file-hashes.json'));
  const inputs: Record<string, string> = { builder: BUILDER_VERSION, append: APPEND, kernel: await memo.hash(kernel.bzImage), busybox: await memo.hash(BUSYBOX), qemuGa: await memo.hash(QEMU_GA) };
  for (const file of [...modules.map((m) => join(kernel.modulesDir, m)), ...libraries, ...Object.values(tools)]) {
    inputs[file] = await memo.hash(file);
  }
  // Guest files by their path inside the guest, so a copy of guest/rootfs elsewhere hashes the same.
  for (const file of listFiles(rootfs)) inputs[`rootfs:${relative(rootfs, file)}`] = await memo.hash(file);
  memo.save();
  const hash = combineHashes(inputs);
  return { hash, dir: join(root, 'images', `default-${hash.slice(0, 16)}`), kernel, tools, modules, libraries, rootfs };
}

async function buildDefaultImage(root: string, options: DefaultImageOptions): Promise<GuestImage> {
  const log = options.log ?? (() => undefined);
  const plan = await planDefaultImage({ ...options, cacheDir: root });
  const { dir, hash, kernel } = plan;
  if (!existsSync(dir)) {
    const started = performance.now();
    log(`building the default guest image (kernel ${kernel.release})`);
    await buildAtomically(dir, async (temp) => {
      await extractVmlinux(kernel.bzImage, join(temp, 'vmlinux'));
      const staging = join(temp, 'rootfs');
      await stageRootfs(staging, { rootfs: plan.rootfs, modules: plan.modules, modulesDir: kernel.modulesDir, libraries: plan.libraries, tools: Object.values(plan.tools) });
      await packCpio(staging, join(temp, 'initrd.cpio'));
      rmSync(staging, { recursive: true, force: true });
      writeFileSync(join(temp, 'image.json'), `${JSON.stringify({ hash, kernelRelease: kernel.release, append: APPEND, builtAt: new Date().toISOString() }, null, 2)}\n`);
    });
    log(`default guest image built in ${((performance.now() - started) / 1000).toFixed(1)} s: ${dir}`);
    for (const old of pruneEntries(join(root, 'images'), { prefix: 'default-', keep: KEEP_IMAGES, minIdleMs: PRUNE_IDLE_MS })) log(`removed an old guest image: ${old}`);
  } else markUsed(dir);
  return { kernel: join(dir, 'vmlinux'), initrd: join(dir, 'initrd.cpio'), append: APPEND, hash, kernelRelease: kernel.release };
}

interface StageInputs {
  rootfs: string;
  modules: string[];
  modulesDir: string;
  libraries: string[];
  tools: string[];
}

async function stageRootfs(staging: string, inputs: StageInputs): Promise<void> {
  for (const dir of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'proc', 'sys', 'dev', 'tmp', 'run', 'root', 'var', 'etc', 'lib/modules/bothworlds', 'opt/bothworlds/bin', 'opt/bothworlds/app']) {
    mkdirSync(join(staging, dir), { recursive: true });
  }
  copyFileSync(BUSYBOX, join(staging, 'bin/busybox'));
  chmodSync(join(staging, 'bin/busybox'), 0o755);
  const applets = await execa(BUSYBOX, ['--list-full']);
  for (const applet of applets.stdout.split('\n').map((a) => a.trim()).filter(Boolean)) {
    const target = join(staging, applet);
    if (existsSync(target) || applet === 'bin/busybox') continue;
    mkdirSync(dirname(target), { recursive: true });
    symlinkSync('/bin/busybox', target);
  }
  symlinkSync('/bin/busybox', join(staging, 'init'));
  symlinkSync('/run', join(staging, 'var/run'));
  copyInto(staging, QEMU_GA);
  for (const library of inputs.libraries) copyInto(staging, library);
  for (const module of inputs.modules) {
    const name = basename(module).replace(/\.ko.*$/, '');
    const source = join(inputs.modulesDir, module);
    const target = join(staging, 'lib/modules/bothworlds', `${name}.ko`);
    if (/\.ko\.xz$/.test(module)) {
      const result = await execa('xz', ['-dc', source], { encoding: 'buffer' });
      writeFileSync(target, result.stdout);
    } else copyFileSync(source, target);
  }
  cpSync(inputs.rootfs, staging, { recursive: true });
  writeFileSync(join(staging, 'etc/bothworlds/modules'), `${inputs.modules.map((m) => basename(m).replace(/\.ko.*$/, '')).join('\n')}\n`);
  for (const script of readdirSync(join(staging, 'etc/bothworlds'))) {
    if (script.endsWith('.sh')) chmodSync(join(staging, 'etc/bothworlds', script), 0o755);
  }
  for (const tool of inputs.tools) {
    copyFileSync(tool, join(staging, 'opt/bothworlds/bin', basename(tool)));
    chmodSync(join(staging, 'opt/bothworlds/bin', basename(tool)), 0o755);
  }
  // The kernel opens /dev/console for init before devtmpfs is mounted.
  await execa('mknod', ['-m', '600', join(staging, 'dev/console'), 'c', '5', '1'], { reject: false });
  writeFileSync(join(staging, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(staging, 'etc/group'), 'root:x:0:\n');
}

/** Copy a host file to the same absolute path inside the staging root. */
function copyInto(staging: string, hostPath: string): void {
  const target = join(staging, hostPath);
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(hostPath, target);
  chmodSync(target, 0o755);
}

/** Read an image's metadata back (for `bothworlds doctor`). */
export function readImageInfo(image: GuestImage): Record<string, unknown> {
  return JSON.parse(readFileSync(join(dirname(image.kernel), 'image.json'), 'utf8')) as Record<string, unknown>;
}
