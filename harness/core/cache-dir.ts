import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where bothworlds caches images, tools, snapshots and probes: $BOTHWORLDS_CACHE, else XDG. */
export function cacheDir(): string {
  if (process.env.BOTHWORLDS_CACHE) return process.env.BOTHWORLDS_CACHE;
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'bothworlds');
}
