import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { projectRoot } from '../core/project-root.js';
import { hashFile } from '../images/hash.js';
import { ensureDefaultImage } from '../images/default-image.js';
import { ensureDistroImage } from '../images/debian/image.js';
import { ensureTools } from '../images/tools.js';
import { resolveAppFiles } from '../matrix/app-files.js';
import type { Cell } from '../model/cell.js';

export interface ProvenanceFile {
  role: 'kernel' | 'initramfs' | 'disk' | 'payload';
  path: string;
  sha256: string;
  bytes: number;
  /** How many of the run's cells used it. */
  cells: number;
}

/** Where the harness itself came from, and the SHA-256 of every guest image, kernel, initramfs and payload file the cells used. */
export interface Provenance {
  harness: { version: string; commit?: string; dirty?: boolean };
  files: ProvenanceFile[];
}

/** The harness's version and git commit (with whether the tree had uncommitted changes); no commit outside a git checkout. */
export async function harnessIdentity(): Promise<Provenance['harness']> {
  const root = projectRoot();
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const head = await execa('git', ['-C', root, 'rev-parse', 'HEAD'], { reject: false, timeout: 10_000 });
  if (head.exitCode !== 0) return { version };
  const status = await execa('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no'], { reject: false, timeout: 30_000 });
  return { version, commit: head.stdout.trim(), ...(status.exitCode === 0 ? { dirty: status.stdout.trim() !== '' } : {}) };
}

function usesTools(cells: Iterable<Cell>): boolean {
  for (const cell of cells) if (cell.app.files.some((f) => f.startsWith('@tools/'))) return true;
  return false;
}

/**
 * Hash what the cells booted and ran. Images are found as the runner finds them (cached by content,
 * so this builds nothing that a run of these cells did not already build).
 */
export async function collectProvenance(cells: Iterable<Cell>): Promise<Provenance> {
  const used = new Map<string, { role: ProvenanceFile['role']; cells: number }>();
  const add = (role: ProvenanceFile['role'], path: string) => {
    const entry = used.get(path) ?? { role, cells: 0 };
    entry.cells++;
    used.set(path, entry);
  };
  const tools = usesTools(cells) ? await ensureTools() : undefined;
  for (const cell of cells) {
    for (const file of tools ? resolveAppFiles(cell, tools) : cell.app.files) add('payload', file);
    if (cell.backend !== 'qemu' && cell.backend !== 'libvirt') continue;
    const image = cell.machine.image;
    if (image.kind === 'disk') add('disk', image.path);
    else if (image.kind === 'kernel') {
      add('kernel', image.kernel);
      add('initramfs', image.initrd);
    } else {
      const built = image.kind === 'distro' ? await ensureDistroImage(image.name, { packages: image.packages }) : await ensureDefaultImage();
      add('kernel', built.kernel);
      add('initramfs', built.initrd);
      if ('disk' in built && typeof built.disk === 'string') add('disk', built.disk);
    }
  }
  const files = await Promise.all(
    [...used].map(async ([path, { role, cells: count }]) => ({ role, path, sha256: await hashFile(path), bytes: (await stat(path)).size, cells: count })),
  );
  files.sort((a, b) => a.role.localeCompare(b.role) || a.path.localeCompare(b.path));
  return { harness: await harnessIdentity(), files };
}
