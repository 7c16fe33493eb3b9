import { lstatSync, mkdtempSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { InfrastructureError } from './errors.js';

const STICKY = 0o1000;

export function currentUid(): number {
  return process.getuid?.() ?? 0;
}

/**
 * A directory this user may keep private dirs in: owned by this user or root, and either writable
 * by nobody else or sticky (as /tmp): then nobody else can rename or replace what we create there.
 */
export function assertSafeParent(path: string): void {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (cause) {
    throw new InfrastructureError('TEMP_DIR_UNSAFE', `temp space ${path} cannot be used: ${(cause as Error).message}`, { cause });
  }
  const uid = currentUid();
  const why = !stats.isDirectory()
    ? 'it is not a directory'
    : stats.uid !== uid && stats.uid !== 0
      ? `it belongs to uid ${stats.uid}`
      : (stats.mode & 0o022) !== 0 && (stats.mode & STICKY) === 0
        ? `others may write to it (mode ${(stats.mode & 0o7777).toString(8)}) and it is not sticky`
        : undefined;
  if (why) throw new InfrastructureError('TEMP_DIR_UNSAFE', `temp space ${path} is not safe on a shared host: ${why}; set BOTHWORLDS_RUN_DIR to a folder only you can write`, { details: { path } });
}

/** A real directory (not a symlink) owned by `uid` that nobody else can read, write or enter. */
export function isPrivateDir(stats: Stats, uid = currentUid()): boolean {
  return stats.isDirectory() && !stats.isSymbolicLink() && stats.uid === uid && (stats.mode & 0o077) === 0;
}

/** mkdtemp (a fresh, unguessable name, created 0700), then checked: never a directory someone prepared. */
export function makePrivateDir(parent: string, prefix: string): string {
  const path = mkdtempSync(join(parent, prefix));
  if (!isPrivateDir(lstatSync(path))) {
    throw new InfrastructureError('TEMP_DIR_UNSAFE', `${path} was created but is not a private directory of uid ${currentUid()}`, { details: { path } });
  }
  return path;
}
