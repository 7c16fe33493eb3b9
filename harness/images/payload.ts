import { copyFileSync, chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { appendFile, copyFile, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { cacheDir } from '../core/cache-dir.js';
import { buildAtomically } from './atomic-dir.js';
import { packCpio } from './cpio.js';
import { combineHashes, hashFile } from './hash.js';
import { sharedLibraries } from './libraries.js';
import { markUsed, pruneEntries } from './prune.js';
import type { GuestImage } from './default-image.js';

/** The application under test: host files that go to /opt/bothworlds/app in the guest. */
export interface Payload {
  files: string[];
}

export const PAYLOAD_DIR = '/opt/bothworlds/app';
const KEEP_PAYLOADS = 8;

/**
 * An image whose initramfs is the cached base plus a second archive with the payload (Linux
 * unpacks concatenated newc archives in order), so changing the app never rebuilds the base.
 * Executables bring the shared libraries `ldd` lists, at their host paths.
 */
export async function withPayload(image: GuestImage, payload: Payload, options: { cacheDir?: string } = {}): Promise<GuestImage> {
  if (payload.files.length === 0) return image;
  const parts: Record<string, string> = { base: image.hash };
  const libraries = new Set<string>();
  const names = payload.files.map((file) => basename(file));
  const duplicate = names.find((name, index) => names.indexOf(name) !== index);
  if (duplicate) {
    throw new ConfigError('APP_FILE_DUPLICATE', `two application files are both named ${duplicate}: they would land on the same path in ${PAYLOAD_DIR}`, { details: { files: payload.files } });
  }
  for (const file of payload.files) {
    if (!existsSync(file) || !statSync(file).isFile()) throw new ConfigError('APP_FILE_MISSING', `application file ${file} does not exist or is not a file`);
    parts[`app:${basename(file)}`] = await hashFile(file);
    if (statSync(file).mode & 0o111) for (const library of await sharedLibraries(file)) libraries.add(library);
  }
  for (const library of libraries) parts[`lib:${library}`] = await hashFile(library);
  const hash = combineHashes(parts);
  const dir = join(options.cacheDir ?? cacheDir(), 'payloads', hash.slice(0, 16));
  const cached = existsSync(dir);
  await buildAtomically(dir, async (temp) => {
    const staging = join(temp, 'rootfs');
    mkdirSync(join(staging, PAYLOAD_DIR), { recursive: true });
    for (const file of payload.files) {
      const target = join(staging, PAYLOAD_DIR, basename(file));
      copyFileSync(file, target);
      chmodSync(target, statSync(file).mode & 0o777);
    }
    for (const library of libraries) {
      const target = join(staging, library);
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(library, target);
    }
    const archive = join(temp, 'payload.cpio');
    await packCpio(staging, archive);
    await copyFile(image.initrd, join(temp, 'initrd.cpio'));
    await appendFile(join(temp, 'initrd.cpio'), await readFile(archive));
  });
  if (cached) markUsed(dir);
  // Each payload holds a copy of the base (~12 MB): keep the recently used ones only.
  else pruneEntries(dirname(dir), { keep: KEEP_PAYLOADS, minIdleMs: 60 * 60 * 1000 });
  return { ...image, initrd: join(dir, 'initrd.cpio'), hash };
}
