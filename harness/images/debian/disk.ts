import { rmSync } from 'node:fs';
import { execa } from 'execa';
import { InfrastructureError } from '../../core/errors.js';

/**
 * Turn a root directory into a qcow2 disk without mounting anything: `mkfs.ext4 -d` populates a
 * sparse raw file from the directory (ownership, modes, device nodes, symlinks), then qemu-img
 * converts it (only used clusters are stored). The filesystem gets 1 GiB of room beyond its
 * content for the application's writes (each cell writes to its own overlay, never to this).
 */
export async function makeDiskImage(root: string, output: string, rawTemp: string): Promise<{ sizeMiB: number }> {
  const du = await execa('du', ['-sm', root], { reject: false });
  const contentMiB = Number.parseInt(du.stdout, 10) || 512;
  const sizeMiB = Math.max(2048, Math.ceil((contentMiB * 1.3 + 1024) / 256) * 256);
  const mkfs = await execa('mkfs.ext4', ['-q', '-F', '-L', 'bothworlds', '-d', root, rawTemp, `${sizeMiB}M`], { reject: false });
  if (mkfs.exitCode !== 0) throw new InfrastructureError('IMAGE_BUILD', `mkfs.ext4 -d ${root} failed: ${mkfs.stderr.trim()} (is e2fsprogs >= 1.43 installed?)`);
  const convert = await execa('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', rawTemp, output], { reject: false });
  rmSync(rawTemp, { force: true });
  if (convert.exitCode !== 0) throw new InfrastructureError('IMAGE_BUILD', `qemu-img convert to ${output} failed: ${convert.stderr.trim()}`);
  return { sizeMiB };
}
