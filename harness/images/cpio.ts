import { execa } from 'execa';
import { InfrastructureError } from '../core/errors.js';

/**
 * Pack a staging directory as an uncompressed newc archive owned by root (the kernel unpacks
 * uncompressed archives fastest, and concatenated archives in order).
 */
export async function packCpio(stagingDir: string, output: string): Promise<void> {
  const result = await execa('sh', ['-c', 'find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet > "$1"', 'pack-cpio', output], {
    cwd: stagingDir,
    reject: false,
  });
  if (result.exitCode !== 0) {
    throw new InfrastructureError('IMAGE_BUILD', `cpio failed to pack ${stagingDir}: ${result.stderr.trim()} (is the cpio package installed?)`);
  }
}
