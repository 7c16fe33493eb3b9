import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { buildQemuArgv } from '../machines/qemu/argv.js';
import type { QemuLaunch } from '../machines/qemu/machine.js';
import { execa } from 'execa';

/** The image a qcow2 overlay is backed by (qemu-img records it absolute: harness/images/overlay.ts). */
async function backingFile(overlay: string): Promise<string | undefined> {
  const info = await execa('qemu-img', ['info', '--output=json', '-U', overlay], { reject: false });
  return info.exitCode === 0 ? ((JSON.parse(info.stdout) as { 'full-backing-filename'?: string })['full-backing-filename'] ?? undefined) : undefined;
}

/** Placeholder sockets: socket paths differ per process but are not part of the guest's state. */
const NEUTRAL_SOCKETS = { qmp: 'qmp', agent: 'agent', app: 'app', heartbeat: 'heartbeat' };

/** Why a launch cannot be restored from a snapshot, or undefined when it can. */
export function snapshotIneligible(launch: QemuLaunch): string | undefined {
  if (launch.boot.kind === 'disk') {
    return "a user's disk image boots cold (a distribution image's disk is kept with its snapshot; a user's image is not yet)";
  }
  if (launch.incoming) return 'the launch is already an incoming migration';
  return undefined;
}

/**
 * Everything that defines a snapshot: QEMU's version, the exact argv (with neutral socket paths)
 * and the identity of every file QEMU reads at start (path, size, mtime; the image builder names
 * files by content hash, so a change of content is a change of path or mtime).
 */
export async function snapshotKey(launch: QemuLaunch, qemuVersion: string): Promise<string> {
  // A root disk is a per-guest overlay: its path differs every time, the image it overlays defines the snapshot.
  const disk = launch.boot.kind === 'kernel' ? launch.boot.disk : undefined;
  const backing = disk ? await backingFile(disk.path) : undefined;
  const neutral: QemuLaunch = disk && launch.boot.kind === 'kernel' ? { ...launch, boot: { ...launch.boot, disk: { ...disk, path: 'disk' } } } : launch;
  const argv = buildQemuArgv({ ...neutral, name: 'snapshot', sockets: NEUTRAL_SOCKETS });
  const files = launch.boot.kind === 'kernel' ? [launch.boot.kernel, launch.boot.initrd, ...(backing ? [backing] : [])] : [];
  const identities = await Promise.all(
    files.map(async (path) => {
      const info = await stat(path);
      return `${path}:${info.size}:${Math.round(info.mtimeMs)}`;
    }),
  );
  return createHash('sha256')
    .update(JSON.stringify({ format: 1, qemuVersion, argv, identities }))
    .digest('hex')
    .slice(0, 24);
}
