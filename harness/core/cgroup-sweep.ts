import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cgroup2Mount, isPopulated, ownerOfCgroup } from './cgroup.js';
import { terminateCgroup } from './cgroup-teardown.js';
import { ownerState } from './owner-lock.js';
import { currentUid } from './private-dir.js';

/** A cgroup whose owner's root is gone may belong to a harness starting in another mount namespace. */
const ABSENT_GRACE_MS = 60_000;
/** A host with more cgroups than this is not walked further (a bound, not an expectation). */
const MAX_VISITED = 100_000;

/** Every `bothworlds-*` cgroup under the mount, wherever the harness that made it ran. */
function findBothworldsCgroups(mount: string): string[] {
  const found: string[] = [];
  const queue = [mount];
  let visited = 0;
  while (queue.length > 0 && visited++ < MAX_VISITED) {
    const dir = queue.pop()!;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      (entry.name.startsWith('bothworlds-') ? found : queue).push(join(dir, entry.name));
    }
  }
  return found;
}

/**
 * Kill and remove this uid's application cgroups whose harness is gone (SIGKILLed, and its reaper
 * too). The owner is the lock token in the cgroup's name: 'dead' (the socket refuses) is removed;
 * 'absent' (its root is gone) only when nothing runs in it and it is older than a minute, since a
 * harness in another mount namespace would look absent too. Returns what was removed.
 */
export async function sweepOrphanCgroups(): Promise<string[]> {
  let mount;
  try {
    mount = cgroup2Mount();
  } catch {
    return [];
  }
  if (!mount || mount.readOnly) return [];
  const removed: string[] = [];
  for (const path of findBothworldsCgroups(mount.mount)) {
    const token = ownerOfCgroup(path.slice(path.lastIndexOf('/') + 1));
    if (!token) continue;
    let stats;
    try {
      stats = lstatSync(path);
    } catch {
      continue;
    }
    if (!stats.isDirectory() || stats.uid !== currentUid()) continue;
    const state = await ownerState(token);
    if (state === 'alive') continue;
    if (state === 'absent' && (isPopulated(path) || Date.now() - stats.mtimeMs < ABSENT_GRACE_MS)) continue;
    try {
      await terminateCgroup(path);
      removed.push(path);
    } catch {
      // Still busy or refused: the next sweep tries again.
    }
  }
  return removed;
}
