import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeadlineError } from '../../core/errors.js';

/**
 * One builder per image across processes (parallel test workers, concurrent runs): a second process
 * waits for the first's result instead of running mmdebstrap again on the same 2 cores. The lock is
 * a directory (mkdir is atomic) holding the owner's pid; a dead owner's lock is taken over.
 * buildAtomically stays the guarantee that a reader never sees half an image.
 */
export async function withBuildLock<T>(target: string, build: () => Promise<T>, options: { timeoutMs?: number; log?: (line: string) => void } = {}): Promise<T | undefined> {
  // '.tmp-' keeps the lock out of the image pruner's view (harness/images/prune.ts).
  const lock = `${target}.tmp-lock`;
  const deadline = performance.now() + (options.timeoutMs ?? 30 * 60_000);
  let told = false;
  for (;;) {
    if (existsSync(target)) return undefined;
    try {
      mkdirSync(lock);
      writeFileSync(`${lock}/pid`, String(process.pid));
      break;
    } catch {
      if (!ownerAlive(lock)) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (!told) options.log?.(`waiting for another process building ${target}`);
      told = true;
      if (performance.now() > deadline) throw new DeadlineError(`another process's build of ${target} (lock ${lock})`, options.timeoutMs ?? 30 * 60_000);
      await sleep(500);
    }
  }
  try {
    return existsSync(target) ? undefined : await build();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function ownerAlive(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(`${lock}/pid`, 'utf8'));
  } catch {
    // Created a moment ago, pid not written yet: alive.
    return true;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
