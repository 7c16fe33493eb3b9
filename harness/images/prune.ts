import { readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';

/** Record that a cache entry was just used (its mtime is its last use), for pruning. */
export function markUsed(entry: string): void {
  const now = new Date();
  try {
    utimesSync(entry, now, now);
  } catch {
    // A concurrent prune removed it between lookup and use: the caller's path stays valid only
    // if QEMU already opened it, so this is as good as it gets without locks; harmless here.
  }
}

export interface PruneOptions {
  /** Always keep this many most recently used entries. */
  keep: number;
  /** Never remove an entry used more recently than this (another process may be about to boot it). */
  minIdleMs: number;
  /** Only entries whose name starts with this. */
  prefix?: string;
  now?: number;
}

/**
 * Remove old cache entries (each image or payload is tens of MB; every change to the guest's
 * files or the app makes a new one). Returns the removed paths. Never throws: pruning is hygiene.
 */
export function pruneEntries(parent: string, options: PruneOptions): string[] {
  const now = options.now ?? Date.now();
  let entries: Array<{ path: string; usedAt: number }>;
  try {
    entries = readdirSync(parent, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.includes('.tmp-') && e.name.startsWith(options.prefix ?? ''))
      .map((e) => ({ path: join(parent, e.name), usedAt: statSync(join(parent, e.name)).mtimeMs }))
      .sort((a, b) => b.usedAt - a.usedAt);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const entry of entries.slice(options.keep)) {
    if (now - entry.usedAt < options.minIdleMs) continue;
    rmSync(entry.path, { recursive: true, force: true });
    removed.push(entry.path);
  }
  return removed;
}
