import { sweepOrphanCgroups } from '../core/cgroup-sweep.js';
import { sweepStaleTempDirs } from '../core/temp-dir.js';
import { sweepOrphanContainers } from '../machines/container/owner.js';
import { sweepOrphanDomains } from '../machines/libvirt/owner.js';

/**
 * What harnesses of this user that died (SIGKILL, OOM, power) left behind: temp dirs, containers
 * and libvirt domains whose owner's lock is no longer held. Their QEMUs and local apps died with
 * them (parent-death signal, reaper); these outlive a process, so a run start removes them. Local
 * apps' cgroups (with what runs in them) go first, while their owners' roots still say 'dead'.
 */
export async function sweepLeftovers(): Promise<string[]> {
  const cgroups = await sweepOrphanCgroups();
  const [dirs, containers, domains] = await Promise.all([sweepStaleTempDirs(), sweepOrphanContainers(), sweepOrphanDomains()]);
  return [...cgroups.map((c) => `cgroup ${c}`), ...dirs.map((d) => `temp dir ${d}`), ...containers.map((id) => `container ${id.slice(0, 12)}`), ...domains.map((d) => `domain ${d}`)];
}
