import { spawnLocal, type LocalChild } from './local-process.js';

export interface GroupReaper {
  /** The group ended normally (or was killed by us): stop watching without firing. */
  disarm(): void;
}

/** What the reaper kills: an application's cgroup (everything in it, however it forked), else its process group. */
export type ReaperTarget = { cgroup: string } | { pgid: number };

// After EOF: cgroup.kill (or, before Linux 5.14, SIGKILL per pid) until `populated 0`, at most
// 200 x 50 ms (a shell has no inotify), then rmdir; or SIGKILL to the process group.
const SCRIPT = `trap '' HUP INT TERM PIPE; cat >/dev/null
if [ "$1" = cgroup ]; then
  i=0
  while [ -d "$2" ] && [ $i -lt 200 ] && ! grep -qx 'populated 0' "$2/cgroup.events"; do
    if [ -e "$2/cgroup.kill" ]; then echo 1 >"$2/cgroup.kill"; else for p in $(cat "$2/cgroup.procs"); do kill -KILL "$p"; done; fi
    sleep 0.05; i=$((i + 1))
  done
  rmdir "$2"
else kill -KILL -"$2"; fi 2>/dev/null`;

/**
 * A parent-death signal reaches only the direct child; what it starts would outlive a harness
 * killed with SIGKILL. The reaper — its own process group, signals ignored — waits for EOF on a pipe
 * only this harness holds (close-on-exec, so no child keeps it open). When the harness dies the
 * pipe closes and it kills the application's cgroup or process group.
 */
export async function armReaper(target: ReaperTarget): Promise<GroupReaper> {
  const args = 'cgroup' in target ? ['cgroup', target.cgroup] : ['group', String(target.pgid)];
  const reaper: LocalChild = await spawnLocal(['sh', '-c', SCRIPT, 'bw-reaper', ...args], { stdin: 'pipe' });
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
