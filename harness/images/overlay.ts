import { basename, join, resolve } from 'node:path';
import { execa } from 'execa';
import { ConfigError, InfrastructureError } from '../core/errors.js';

/** A private qcow2 overlay on a user's disk image: the guest writes there, the base is never written. */
export async function createOverlay(baseImage: string, dir: string): Promise<string> {
  // Absolute: qemu-img resolves a relative backing path against the overlay's directory.
  const base = resolve(baseImage);
  const info = await execa('qemu-img', ['info', '--output=json', base], { reject: false });
  if (info.exitCode !== 0) throw new ConfigError('DISK_IMAGE', `cannot read disk image ${base}: ${info.stderr.trim()}`);
  const format = (JSON.parse(info.stdout) as { format: string }).format;
  const overlay = join(dir, `${basename(base)}.overlay.qcow2`);
  const created = await execa('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', format, '-b', base, overlay], { reject: false });
  if (created.exitCode !== 0) throw new InfrastructureError('DISK_OVERLAY', `qemu-img could not create an overlay on ${base}: ${created.stderr.trim()}`);
  return overlay;
}
