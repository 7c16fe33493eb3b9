import { join } from 'node:path';
import { cgroupName, createCgroup, isPopulated, killCgroupOnce, localContainment, removeCgroup } from '../../core/cgroup.js';
import { emptyCgroup, terminateCgroup, waitForPopulated } from '../../core/cgroup-teardown.js';
import { withDeadline } from '../../core/deadline.js';
import { attachCleanupError, InfrastructureError } from '../../core/errors.js';
import type { ResourceHandle, ResourceScope, ResourceSpec } from '../../core/scope.js';
import { ownerToken } from '../../core/temp-dir.js';
import { armReaper, killGroupSync, type GroupReaper } from './group-reaper.js';
import { spawnLocal, type LocalChild } from './local-process.js';

const KILL_GRACE_MS = 2_000;

// The first process moves itself into the cgroup, then execs the application: it cannot fork
// before. The application's argv stays a list of arguments ("$@"), never part of a shell string.
// dash exports PWD, which the application's environment must not gain.
const ENTER_FAILED = 125;
const ENTER_FAILED_MESSAGE = 'bothworlds: could not enter cgroup';
const ENTER_CGROUP = `echo $$ >"$1" || { echo "${ENTER_FAILED_MESSAGE} $1" >&2; exit ${ENTER_FAILED}; }; unset PWD; shift; exec "$@"`;
const ENTER_DEADLINE_MS = 10_000;

/** argv that runs `command` inside `cgroup` from its first instruction. */
export function enterCgroupCommand(cgroup: string, command: string[]): string[] {
  return ['sh', '-c', ENTER_CGROUP, 'bw-cgroup', join(cgroup, 'cgroup.procs'), ...command];
}

type SpawnOptions = Parameters<typeof spawnLocal>[1];

/**
 * Start a local application so that nothing it starts outlives its scope. Where cgroup v2 is
 * writable: a cgroup of its own (made and registered in `scope` before the process starts), which
 * `setsid` or a double fork cannot leave; elsewhere its process group. Either way a parent-death
 * signal for the first process and a reaper for the rest cover a SIGKILL of the harness.
 */
export async function spawnContained(scope: ResourceScope, command: string[], options: SpawnOptions = {}): Promise<LocalChild> {
  const containment = localContainment();
  const cgroup = containment.kind === 'cgroup' ? createCgroup(containment.parent, cgroupName(ownerToken())) : undefined;
  const started: Started = {};
  let handle: ResourceHandle;
  try {
    handle = scope.register(teardown(command, cgroup, started));
  } catch (error) {
    if (cgroup) removeCgroup(cgroup); // the scope closed (Ctrl+C) before anything started
    throw error;
  }
  try {
    const leader = ['setpriv', '--pdeathsig', 'KILL', '--', ...command];
    if (cgroup) {
      // Side by side (the cgroup is known before either starts); both kept, whichever fails.
      const [armed, spawned] = await Promise.allSettled([armReaper({ cgroup }), spawnLocal(enterCgroupCommand(cgroup, leader), options)]);
      if (armed.status === 'fulfilled') started.reaper = armed.value;
      if (spawned.status === 'fulfilled') started.child = spawned.value;
      if (armed.status === 'rejected') throw armed.reason;
      if (spawned.status === 'rejected') throw spawned.reason;
      await enteredCgroup(started.child!, cgroup);
      return killingCgroup(started.child!, cgroup);
    }
    started.child = await spawnLocal(leader, options);
    started.reaper = await armReaper({ pgid: started.child.pid });
    return started.child;
  } catch (error) {
    await handle.dispose().catch((cleanup: unknown) => attachCleanupError(error, cleanup));
    throw error;
  }
}

interface Started {
  child?: LocalChild;
  reaper?: GroupReaper;
}

/** Registered before anything starts; stays after the first process exits: what it left running dies at stop. */
function teardown(command: string[], cgroup: string | undefined, started: Started): ResourceSpec {
  return {
    name: `${command.join(' ')} (${cgroup ? `cgroup ${cgroup}` : 'process group'})`,
    kind: 'process',
    dispose: async () => {
      const { child, reaper } = started;
      try {
        if (cgroup) {
          await terminateCgroup(cgroup, { graceMs: KILL_GRACE_MS, ...(child ? { leaderExited: child.leaderExited } : {}) });
          // Everything in it is dead, so its pipes are closed: this is the reaping of the first process.
          if (child) await withDeadline(child.exited, 5_000, `${command.join(' ')} to be reaped after its cgroup was emptied`);
        } else if (child) {
          await child.kill('TERM');
          killGroupSync(child.pid);
        }
      } finally {
        reaper?.disarm();
      }
    },
    disposeSync: () => {
      // The harness is exiting: kill now; the reaper stays armed and removes the cgroup once the
      // harness is gone (its processes take a moment to die, which an exit hook cannot wait for).
      if (cgroup) killCgroupOnce(cgroup);
      else if (started.child) {
        killGroupSync(started.child.pid);
        started.reaper?.disarm();
      }
    },
  };
}

/**
 * Returns once the first process is in its cgroup (a teardown before that would find it empty and
 * miss the process). One that exits first either entered and ended (a quick application) or could
 * not enter: its own message says which.
 */
async function enteredCgroup(child: LocalChild, cgroup: string): Promise<void> {
  const stop = new AbortController();
  try {
    await Promise.race([waitForPopulated(cgroup, true, ENTER_DEADLINE_MS, stop.signal), child.leaderExited]);
  } finally {
    stop.abort();
  }
  if (isPopulated(cgroup)) return;
  // Nothing of it is alive, so its output is closed and this settles at once.
  const result = await withDeadline(child.exited, ENTER_DEADLINE_MS, `the output of ${child.pid} to close`);
  if (result.exitCode === ENTER_FAILED && result.stderr.includes(ENTER_FAILED_MESSAGE)) {
    throw new InfrastructureError('CGROUP', `${result.stderr.trim()} (exit ${ENTER_FAILED})`, { details: { cgroup } });
  }
}

/**
 * In a cgroup, kill() reaches everything the application started, not only its process group (an
 * escaped child holding the output would otherwise keep `exited` from settling). The cgroup itself
 * stays until the scope removes it.
 */
function killingCgroup(child: LocalChild, cgroup: string): LocalChild {
  return {
    ...child,
    async kill(signal = 'TERM') {
      await emptyCgroup(cgroup, signal === 'TERM' ? { graceMs: KILL_GRACE_MS, leaderExited: child.leaderExited } : {});
      await child.exited;
    },
  };
}
