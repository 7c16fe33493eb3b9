import { execa } from 'execa';
import { UnsupportedError } from '../../core/errors.js';

export const QEMU_BINARY = process.env.BOTHWORLDS_QEMU ?? 'qemu-system-x86_64';

export interface QemuVersion {
  major: number;
  minor: number;
  micro: number;
  text: string;
}

let cached: Promise<QemuVersion> | undefined;

/** QEMU's version from `--version`; UnsupportedError when QEMU is not installed. */
export function qemuVersion(): Promise<QemuVersion> {
  cached ??= (async () => {
    const result = await execa(QEMU_BINARY, ['--version'], { reject: false, timeout: 10_000 });
    const match = /version (\d+)\.(\d+)\.(\d+)/.exec(result.stdout);
    if (result.exitCode !== 0 || !match) {
      throw new UnsupportedError('QEMU_MISSING', `${QEMU_BINARY} is not usable: ${result.stderr || result.shortMessage}`);
    }
    return { major: Number(match[1]), minor: Number(match[2]), micro: Number(match[3]), text: result.stdout.split('\n')[0]! };
  })();
  return cached;
}
