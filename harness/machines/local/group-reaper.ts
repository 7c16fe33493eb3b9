import { spawnLocal, type LocalChild } from './local-process.js';

export interface GroupReaper {
  /** The group ended normally (or was killed by us): stop watching without firing. */
  disarm(): void;
}

/**
 * A parent-death signal reaches only the direct child; what it starts would outlive a harness
 * killed with SIGKILL. The reaper — its own process group, signals ignored — waits for EOF on a pipe
 * only this harness holds (close-on-exec, so no child keeps it open). When the harness dies the
 * pipe closes and it kills the application's whole process group.
 */
export async function armGroupReaper(pgid: number): Promise<GroupReaper> {
  const reaper: LocalChild = await spawnLocal(['sh', '-c', `trap '' HUP INT TERM PIPE; cat >/dev/null; kill -KILL -"$1" 2>/dev/null`, 'bw-reaper', String(pgid)], { stdin: 'pipe' });
  return { disarm: () => reaper.killSync() };
}

/** SIGKILL to a process group whose leader may have exited (stragglers it left behind). */
export function killGroupSync(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // No member is left.
  }
}
