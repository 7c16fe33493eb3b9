import { lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { holdOwnerLock, ownerState } from './owner-lock.js';
import { assertSafeParent, isPrivateDir, makePrivateDir } from './private-dir.js';

const ROOT_PREFIX = 'bothworlds-run-';
const ROOT_PATTERN = /^bothworlds-run-[A-Za-z0-9]{6}$/;
const LOCK_SOCKET = 'alive.sock';
/** A root without its socket yet is a harness starting up (the socket follows within microseconds). */
const STARTING_GRACE_MS = 60_000;

let root: string | undefined;

/** Where process temp roots live: $BOTHWORLDS_RUN_DIR, else the OS temp dir (checked: see assertSafeParent). */
export function tempBase(): string {
  return process.env.BOTHWORLDS_RUN_DIR ?? tmpdir();
}

/**
 * Every temp dir of this harness process lives under one private root: created by mkdtemp (an
 * unguessable name, 0700) in a parent nobody else can rename things in, and checked to be ours —
 * never a predictable name another user could prepare. The process holds a lock there (a listening
 * unix socket) that tells other harnesses, in any PID namespace, that the root is in use.
 */
export function processTempRoot(): string {
  if (!root) {
    const base = tempBase();
    assertSafeParent(base);
    const made = makePrivateDir(base, ROOT_PREFIX);
    holdOwnerLock(join(made, LOCK_SOCKET));
    root = made;
    process.once('exit', () => rmSync(made, { recursive: true, force: true }));
  }
  return root;
}

/** A private (0700) temp dir for this process; the caller registers its removal. */
export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(processTempRoot(), prefix));
}

/**
 * What marks a container or libvirt domain as this harness's: the path of its lock socket. Whoever
 * finds the thing later asks `ownerAlive(token)`; a dead owner's things are removed.
 */
export function ownerToken(): string {
  return join(processTempRoot(), LOCK_SOCKET);
}

/** Whether the harness behind an owner token still runs (a missing token means its root is gone). */
export async function ownerAlive(token: string): Promise<boolean> {
  return (await ownerState(token)) === 'alive';
}

/**
 * Remove what dead harness processes of this user left behind (their QEMUs died with them).
 * Only real directories owned by this user and private to it are considered — another user's
 * directory or a symlink is never touched — and one is removed only when its lock is not held.
 * Removal cannot be redirected: nobody else can write inside a private directory, and nobody else
 * can rename it in a parent that assertSafeParent accepted. Returns what was removed.
 */
export async function sweepStaleTempDirs(): Promise<string[]> {
  const base = tempBase();
  const removed: string[] = [];
  let entries: string[];
  try {
    assertSafeParent(base);
    entries = readdirSync(base);
  } catch {
    return removed;
  }
  for (const entry of entries) {
    if (!ROOT_PATTERN.test(entry)) continue;
    const path = join(base, entry);
    if (path === root) continue;
    let stats;
    try {
      stats = lstatSync(path);
    } catch {
      continue;
    }
    if (!isPrivateDir(stats)) continue;
    const state = await ownerState(join(path, LOCK_SOCKET));
    if (state === 'alive' || (state === 'absent' && Date.now() - stats.mtimeMs < STARTING_GRACE_MS)) continue;
    rmSync(path, { recursive: true, force: true });
    removed.push(path);
  }
  return removed;
}
