import { watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { cgroupPids, isPopulated, killCgroupOnce, removeCgroup, signalCgroup } from './cgroup.js';
import { DeadlineError } from './errors.js';

const KILL_DEADLINE_MS = 10_000;
/** Without cgroup.kill a process may fork between reading cgroup.procs and the kill: kill again this often. */
const REKILL_MS = 100;

/**
 * Resolves when the cgroup's `populated` is `want` (a gone cgroup counts as unpopulated). An event,
 * not a sleep: the kernel notifies cgroup.events (inotify) when it changes; it is read once after
 * subscribing.
 */
export function waitForPopulated(path: string, want: boolean, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    let watcher: FSWatcher | undefined;
    let timer: NodeJS.Timeout | undefined;
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      watcher?.close();
      signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve();
    };
    const onAbort = (): void => finish();
    const check = (): void => {
      if (isPopulated(path) === want) finish();
    };
    try {
      watcher = watch(join(path, 'cgroup.events'), check);
      watcher.on('error', check);
    } catch (error) {
      // Gone already (ENOENT): nothing is in it, nor will be.
      return want ? finish(error as Error) : finish();
    }
    const what = want ? `a process to enter cgroup ${path}` : `cgroup ${path} to have no process left`;
    timer = setTimeout(() => finish(new DeadlineError(what, timeoutMs, { pids: cgroupPids(path) })), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    check();
  });
}

/** Resolves when the cgroup has no process left (or is gone). */
export function waitUntilEmpty(path: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  return waitForPopulated(path, false, timeoutMs, signal);
}

/** SIGKILL everything in the cgroup and wait until it is empty; without cgroup.kill, again and again. */
export async function killCgroup(path: string, timeoutMs = KILL_DEADLINE_MS, perPid = false): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    killCgroupOnce(path, perPid);
    const left = deadline - performance.now();
    try {
      return await waitUntilEmpty(path, Math.max(1, Math.min(left, REKILL_MS)));
    } catch (error) {
      if (performance.now() >= deadline) throw new DeadlineError(`cgroup ${path} to have no process left after SIGKILL`, timeoutMs, { pids: cgroupPids(path) }, { cause: error });
    }
  }
}

/**
 * Empty a cgroup. With a grace period: SIGTERM to every process first, and SIGKILL only once the
 * grace ends or `leaderExited` settles (a child the leader left behind has had its SIGTERM). Then
 * SIGKILL whatever is left and wait until nothing is.
 */
export async function emptyCgroup(path: string, options: { graceMs?: number; leaderExited?: Promise<unknown> } = {}): Promise<void> {
  if (options.graceMs !== undefined) {
    signalCgroup(path, 'SIGTERM');
    const stop = new AbortController();
    try {
      await Promise.race([waitUntilEmpty(path, options.graceMs, stop.signal).catch(() => undefined), ...(options.leaderExited ? [options.leaderExited.catch(() => undefined)] : [])]);
    } finally {
      stop.abort();
    }
  }
  if (isPopulated(path)) await killCgroup(path);
}

/** Empty the cgroup (gently first when given a grace period), then remove it. */
export async function terminateCgroup(path: string, options: { graceMs?: number; leaderExited?: Promise<unknown> } = {}): Promise<void> {
  await emptyCgroup(path, options);
  removeCgroup(path);
}
