import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Build a cache entry in a private temp directory and rename it into place, so a reader never
 * sees half an entry and two concurrent builders both succeed (the loser's copy is discarded).
 */
export async function buildAtomically(target: string, build: (dir: string) => Promise<void>): Promise<string> {
  if (existsSync(target)) return target;
  mkdirSync(dirname(target), { recursive: true });
  const temp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  mkdirSync(temp, { recursive: true });
  try {
    await build(temp);
    try {
      renameSync(temp, target);
    } catch (error) {
      if (!existsSync(target)) throw error;
    }
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
  return target;
}
