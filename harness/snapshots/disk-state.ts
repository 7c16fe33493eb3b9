import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createOverlay } from '../images/overlay.js';
import type { QemuLaunch } from '../machines/qemu/machine.js';

/**
 * A guest with a root disk (a distribution image) is snapshotted with its disk: the golden guest's
 * overlay is kept beside the RAM state, and every clone boots from an overlay of its own on top of
 * it, so the disk matches the RAM that was saved and clones never share writes. (qcow2 internal
 * snapshots would need one image per clone to load from; an overlay chain costs nothing to fork.)
 */
export function launchDisk(launch: QemuLaunch): { path: string; format: 'qcow2' | 'raw' } | undefined {
  return launch.boot.kind === 'kernel' ? launch.boot.disk : undefined;
}

/** The golden guest's overlay, moved into the snapshot folder once its QEMU has quit (flushed, closed). */
export function keepGoldenDisk(launch: QemuLaunch, folder: string): void {
  const disk = launchDisk(launch);
  if (!disk) return;
  const target = join(folder, 'disk.qcow2');
  try {
    renameSync(disk.path, target);
  } catch {
    // Another filesystem (a tmpfs /tmp): copy, then drop the original.
    copyFileSync(disk.path, `${target}.part`);
    renameSync(`${target}.part`, target);
    rmSync(disk.path, { force: true });
  }
}

/** The launch a clone restores with: a fresh overlay on the snapshot's disk, in the clone's own overlay folder. */
export async function cloneLaunch(launch: QemuLaunch, folder: string): Promise<QemuLaunch> {
  const disk = launchDisk(launch);
  if (!disk || launch.boot.kind !== 'kernel') return launch;
  const base = join(folder, 'disk.qcow2');
  if (!existsSync(base)) throw new Error(`snapshot ${folder} has RAM state but no disk.qcow2`);
  // Beside the overlay prepared on the image's own disk, which a cold boot falls back to if this restore fails.
  const dir = join(dirname(disk.path), 'clone');
  mkdirSync(dir, { recursive: true });
  const path = await createOverlay(base, dir);
  return { ...launch, boot: { ...launch.boot, disk: { path, format: 'qcow2' } } };
}
