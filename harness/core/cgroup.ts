import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, lstatSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InfrastructureError } from './errors.js';
import { currentUid } from './private-dir.js';

/** How local applications are contained: a cgroup of their own, or (fallback) their process group. */
export type Containment = { kind: 'cgroup'; mount: string; parent: string; kill: boolean } | { kind: 'process-group'; reason: string };

/** Set to `off` to force the process-group fallback (tests; hosts where cgroups are managed elsewhere). */
export const CGROUP_ENV = 'BOTHWORLDS_LOCAL_CGROUP';
const NAME_PREFIX = 'bothworlds-';
/** `bothworlds-<owner token, base64url>.<random>`: the sweep finds the owner's lock from the name alone. */
const NAME_PATTERN = /^bothworlds-([A-Za-z0-9_-]+)\.[0-9a-f]{12}$/;

interface Hierarchy {
  /** Where the cgroup2 file system is mounted. */
  mount: string;
  /** This process's cgroup, as a directory under `mount`. */
  own: string;
}

let probed: Containment | undefined;

/** The cgroup2 mount (its root, mount point, read-only) from /proc/self/mountinfo, if any. */
export function cgroup2Mount(): { root: string; mount: string; readOnly: boolean } | undefined {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right || right.split(' ')[0] !== 'cgroup2') continue;
    const fields = left.split(' ');
    const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    return { root: unescape(fields[3]!), mount: unescape(fields[4]!), readOnly: fields[5]!.split(',').includes('ro') };
  }
  return undefined;
}

function hierarchy(): Hierarchy | string {
  let mount;
  try {
    mount = cgroup2Mount();
  } catch (error) {
    return `cannot read /proc/self/mountinfo: ${(error as Error).message}`;
  }
  if (!mount) return 'no cgroup2 file system is mounted';
  if (mount.readOnly) return `the cgroup2 file system at ${mount.mount} is mounted read-only`;
  const line = readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('0::'));
  if (!line) return 'this process is in no cgroup v2 (no 0:: line in /proc/self/cgroup)';
  const path = line.slice(3);
  // The mount may show a subtree (another cgroup namespace mounted it): our path must lie inside.
  if (mount.root !== '/' && path !== mount.root && !path.startsWith(`${mount.root}/`)) return `this process's cgroup ${path} is outside the mounted subtree ${mount.root}`;
  return { mount: mount.mount, own: join(mount.mount, mount.root === '/' ? path : path.slice(mount.root.length)).replace(/(.)\/$/, '$1') };
}

/**
 * Probe once per process: a child cgroup is made and removed under this process's own cgroup, and
 * its cgroup.procs must be writable (moving a process needs that). `BOTHWORLDS_LOCAL_CGROUP=off` is
 * read on every call.
 */
export function localContainment(): Containment {
  if (process.env[CGROUP_ENV] === 'off') return { kind: 'process-group', reason: `${CGROUP_ENV}=off` };
  probed ??= probeContainment();
  return probed;
}

function probeContainment(): Containment {
  const found = hierarchy();
  if (typeof found === 'string') return { kind: 'process-group', reason: found };
  const probe = join(found.own, `${NAME_PREFIX}probe.${randomBytes(6).toString('hex')}`);
  try {
    accessSync(join(found.own, 'cgroup.procs'), constants.W_OK);
    mkdirSync(probe, { mode: 0o700 });
    try {
      accessSync(join(probe, 'cgroup.procs'), constants.W_OK);
      // The root cgroup has no cgroup.kill: ask a child.
      return { kind: 'cgroup', mount: found.mount, parent: found.own, kill: existsSync(join(probe, 'cgroup.kill')) };
    } finally {
      rmdirSync(probe);
    }
  } catch (error) {
    return { kind: 'process-group', reason: `cgroup ${found.own} is not writable here (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` };
  }
}

/** One line for doctor and the run's environment. */
export function describeContainment(containment: Containment = localContainment()): string {
  return containment.kind === 'cgroup'
    ? `cgroup v2: each application in its own cgroup under ${containment.parent} (${containment.kill ? 'cgroup.kill' : 'no cgroup.kill before Linux 5.14: SIGKILL per pid'})`
    : `process group only (${containment.reason}): an application that calls setsid escapes`;
}

/** The name of an application's cgroup: its owner's lock token, then randomness nobody can predict. */
export function cgroupName(ownerToken: string): string {
  return `${NAME_PREFIX}${Buffer.from(ownerToken).toString('base64url')}.${randomBytes(6).toString('hex')}`;
}

/** The owner token a bothworlds cgroup name carries, or undefined for any other name. */
export function ownerOfCgroup(name: string): string | undefined {
  const encoded = NAME_PATTERN.exec(name)?.[1];
  if (!encoded) return undefined;
  const token = Buffer.from(encoded, 'base64url').toString();
  return token.startsWith('/') && token.endsWith('/alive.sock') && Buffer.from(token).toString('base64url') === encoded ? token : undefined;
}

/**
 * mkdir (0700; an existing name or a link is refused, never followed), then checked to be a
 * directory of this uid. No controllers are enabled: cgroup.kill, cgroup.events and cgroup.procs
 * are core files, so the no-internal-processes rule never applies.
 */
export function createCgroup(parent: string, name: string): string {
  const path = join(parent, name);
  try {
    mkdirSync(path, { mode: 0o700 });
  } catch (cause) {
    throw new InfrastructureError('CGROUP', `could not create cgroup ${path}: ${(cause as Error).message}`, { cause, details: { path } });
  }
  const stats = lstatSync(path);
  if (!stats.isDirectory() || stats.uid !== currentUid()) throw new InfrastructureError('CGROUP', `${path} was created but is not a cgroup directory of uid ${currentUid()}`, { details: { path } });
  return path;
}

/** Pids in a cgroup (none when it is gone). */
export function cgroupPids(path: string): number[] {
  try {
    return readFileSync(join(path, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Whether any process is left in the cgroup or below it (false when it is gone). */
export function isPopulated(path: string): boolean {
  try {
    return /^populated 1$/m.test(readFileSync(join(path, 'cgroup.events'), 'utf8'));
  } catch {
    return false;
  }
}

/** A signal to every process of the cgroup (those forking meanwhile are left to cgroup.kill). */
export function signalCgroup(path: string, signal: NodeJS.Signals): void {
  for (const pid of cgroupPids(path)) {
    try {
      process.kill(pid, signal);
    } catch {
      // Exited meanwhile.
    }
  }
}

/**
 * SIGKILL everything in the cgroup: cgroup.kill (atomic against forks), else (before Linux 5.14, or
 * `perPid` for tests) each pid it lists.
 */
export function killCgroupOnce(path: string, perPid = false): void {
  if (!perPid && existsSync(join(path, 'cgroup.kill'))) {
    try {
      writeFileSync(join(path, 'cgroup.kill'), '1');
      return;
    } catch {
      // Removed meanwhile, or refused: fall through to the pids.
    }
  }
  signalCgroup(path, 'SIGKILL');
}

/** rmdir an empty cgroup; one already gone is fine. */
export function removeCgroup(path: string): void {
  try {
    rmdirSync(path);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new InfrastructureError('CGROUP', `could not remove cgroup ${path}: ${(cause as Error).message}`, { cause, details: { path, pids: cgroupPids(path) } });
  }
}
