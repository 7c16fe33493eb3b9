import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ConfigError } from '../../core/errors.js';
import { cacheDir } from '../../core/cache-dir.js';
import { projectRoot } from '../../core/project-root.js';
import { buildAtomically } from '../atomic-dir.js';
import { combineHashes, FileHashMemo, listFiles } from '../hash.js';
import { ensureDefaultImage } from '../default-image.js';
import { findGuestKernel, type HostKernel } from '../kernel.js';
import { withBuildLock } from './build-lock.js';
import { markUsed, pruneEntries } from '../prune.js';
import { ensureTools } from '../tools.js';
import { makeDiskImage } from './disk.js';
import { ensureRootInitramfs } from './initramfs.js';
import { BASE_PACKAGES, bootstrapRoot, customiseRoot, debianMirror } from './rootfs.js';
import { DISTRO_IMAGES } from './names.js';

/** A distribution guest: the default image's kernel (PVH), a root-mounting initramfs and a qcow2 root disk. */
export interface DistroImage {
  name: string;
  kernel: string;
  initrd: string;
  /** The base disk: never written; every guest boots from its own overlay on it. */
  disk: string;
  append: string;
  hash: string;
  kernelRelease: string;
  packages: string[];
}

export { DISTRO_IMAGES };

const BUILDER_VERSION = '1';
/** Images are ~300 MB each (one per package set): keep the recently used ones. */
const KEEP_IMAGES = 4;
/**
 * Same flags as the default image (quiet serial console, DIMMs online_movable, no SWIOTLB), plus
 * the root disk. systemd's status lines would slow the TCG serial console; the journal has them.
 */
const APPEND = 'console=ttyS0 quiet root=/dev/vda rw memhp_default_state=online_movable swiotlb=noforce systemd.show_status=0';
const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]+$/;

export interface DistroImageOptions {
  packages?: string[];
  cacheDir?: string;
  log?: (line: string) => void;
}

const inProcess = new Map<string, Promise<DistroImage>>();

/**
 * Build (or find cached) a distribution image with extra Debian packages (a derived image per
 * package set). Cached by a hash of the package list, the suite and mirror, the build code's
 * inputs (overlay files, kernel; bothworlds' tools come in through the initramfs at boot); the mirror's content at build time is not part of it:
 * image.json records when it was built, and removing the cache entry rebuilds it.
 */
export function ensureDistroImage(name: string, options: DistroImageOptions = {}): Promise<DistroImage> {
  const distro = DISTRO_IMAGES[name];
  if (!distro) throw new ConfigError('IMAGE_UNKNOWN', `unknown image ${JSON.stringify(name)}: built-in images are ${Object.keys(DISTRO_IMAGES).join(', ')}, or give a path to a qcow2/raw file`);
  const packages = [...new Set(options.packages ?? [])].sort();
  const bad = packages.find((p) => !PACKAGE_NAME.test(p));
  if (bad) throw new ConfigError('IMAGE_PACKAGE', `${JSON.stringify(bad)} is not a Debian package name`);
  const root = options.cacheDir ?? cacheDir();
  const key = `${root}\0${name}\0${packages.join(',')}`;
  let pending = inProcess.get(key);
  if (!pending) {
    pending = buildDistroImage(name, distro.suite, packages, root, options.log ?? (() => undefined));
    pending.catch(() => inProcess.delete(key));
    inProcess.set(key, pending);
  }
  return pending;
}

async function buildDistroImage(name: string, suite: string, packages: string[], root: string, log: (line: string) => void): Promise<DistroImage> {
  const kernel = findGuestKernel();
  const [defaultImage, tools] = await Promise.all([ensureDefaultImage({ cacheDir: root }), ensureTools({ cacheDir: root })]);
  const initrd = await ensureRootInitramfs(kernel, Object.values(tools), root);
  const overlay = join(projectRoot(), 'harness', 'images', 'debian', 'rootfs');
  const mirror = debianMirror();
  const allPackages = [...BASE_PACKAGES, ...packages];
  const memo = new FileHashMemo(join(root, 'file-hashes.json'));
  const inputs: Record<string, string> = {
    builder: BUILDER_VERSION,
    name,
    suite,
    mirror,
    packages: allPackages.join(','),
    kernel: await memo.hash(kernel.bzImage),
    modulesDep: await memo.hash(join(kernel.modulesDir, 'modules.dep')),
    build: (await Promise.all(['rootfs.ts', 'disk.ts'].map((f) => memo.hash(join(projectRoot(), 'harness', 'images', 'debian', f))))).join(','),
  };
  for (const file of listFiles(overlay)) inputs[`rootfs:${relative(overlay, file)}`] = await memo.hash(file);
  memo.save();
  const hash = combineHashes(inputs);
  const dir = join(root, 'images', `${name}-${hash.slice(0, 16)}`);
  if (existsSync(dir)) markUsed(dir);
  else {
    const started = performance.now();
    await withBuildLock(dir, () => buildImage(dir, { name, suite, mirror, packages, allPackages, hash, kernel, overlay, log }), { log });
    log(`image ${name} ready in ${((performance.now() - started) / 1000).toFixed(1)} s: ${dir}`);
    for (const old of pruneEntries(join(root, 'images'), { prefix: `${name}-`, keep: KEEP_IMAGES, minIdleMs: 60 * 60 * 1000 })) log(`removed an old image: ${old}`);
  }
  return { name, kernel: defaultImage.kernel, initrd, disk: join(dir, 'disk.qcow2'), append: APPEND, hash, kernelRelease: kernel.release, packages };
}

interface BuildInputs {
  name: string;
  suite: string;
  mirror: string;
  packages: string[];
  allPackages: string[];
  hash: string;
  kernel: HostKernel;
  overlay: string;
  log: (line: string) => void;
}

async function buildImage(dir: string, { name, suite, mirror, packages, allPackages, hash, kernel, overlay, log }: BuildInputs): Promise<void> {
  const started = performance.now();
  log(`building image ${name}${packages.length ? ` with ${packages.join(', ')}` : ''} from ${mirror}`);
  await buildAtomically(dir, async (temp) => {
    const rootDir = join(temp, 'root');
    await bootstrapRoot(rootDir, allPackages, mirror, suite);
    const bootstrapped = performance.now();
    await customiseRoot(rootDir, { overlay, kernelRelease: kernel.release, modulesDir: kernel.modulesDir });
    const { sizeMiB } = await makeDiskImage(rootDir, join(temp, 'disk.qcow2'), join(temp, 'disk.raw'));
    const meta = { name, suite, mirror, packages: allPackages, hash, kernelRelease: kernel.release, append: APPEND, sizeMiB, builtAt: new Date().toISOString(), bootstrapMs: Math.round(bootstrapped - started), buildMs: Math.round(performance.now() - started) };
    writeFileSync(join(temp, 'image.json'), `${JSON.stringify(meta, null, 2)}\n`);
    // The tree is only a step towards the disk (~300 MB): drop it before the rename.
    rmSync(rootDir, { recursive: true, force: true });
  });
}
