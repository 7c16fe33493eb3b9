import { setTimeout as sleep } from 'node:timers/promises';
import { InfrastructureError, UnsupportedError } from '../../core/errors.js';
import { metric } from '../../model/metrics.js';
import type { Ack, MachineControls } from '../machine.js';
import type { ResourceScope } from '../../core/scope.js';
import { quoteArg, type HostShell, type Watchdog } from './shell.js';

/** CPU hot-plug state of a host before bothworlds touched it. */
export interface CpuState {
  /** CPU numbers that have an `online` file, with their state. */
  hotpluggable: Array<{ cpu: number; online: boolean }>;
  /** Every writable cpuset.cpus below the cgroup roots (PLATFORM-NOTES: they stay shrunk after a CPU returns). */
  cpusets: Array<{ path: string; cpus: string }>;
}

const CPU_DIR = '/sys/devices/system/cpu';

/**
 * One cell at a time changes a host's CPUs: a second cell would record the first one's shrunk
 * cpusets as "before" and write them back. mkdir is atomic; the restore script (scope, exit hook
 * or watchdog after a crash) removes the directory last, so a crashed holder never wedges the host.
 */
export const HOST_CPU_LOCK = '/tmp/bothworlds-cpu-hotplug.lock';
const UNLOCK = `rmdir ${HOST_CPU_LOCK} 2>/dev/null; true`;

async function acquireHostCpuLock(shell: HostShell, timeoutMs = 120_000): Promise<void> {
  const started = performance.now();
  for (;;) {
    const result = await shell.exec(['mkdir', HOST_CPU_LOCK], { timeoutMs: 10_000 });
    if (result.exitCode === 0) return;
    if (performance.now() - started > timeoutMs) {
      throw new InfrastructureError('CPU_LOCK', `another cell has been changing CPUs on ${shell.description} for over ${timeoutMs / 1000} s (${HOST_CPU_LOCK} exists)`);
    }
    await sleep(250);
  }
}

/** One sh script prints `cpu N STATE` for hot-pluggable CPUs and `set PATH CPUS` for every non-root cpuset. */
const READ_STATE = [
  `for f in ${CPU_DIR}/cpu[0-9]*/online; do [ -f "$f" ] || continue; n=\${f#${CPU_DIR}/cpu}; echo "cpu \${n%/online} $(cat "$f")"; done`,
  // cgroup v1 has its own cpuset hierarchy; under v2 cpuset.cpus lives in the unified tree. The root's file is read-only.
  'if [ -d /sys/fs/cgroup/cpuset ]; then root=/sys/fs/cgroup/cpuset; else root=/sys/fs/cgroup; fi',
  'find "$root" -mindepth 2 -name cpuset.cpus 2>/dev/null | while read -r f; do echo "set $f $(cat "$f")"; done',
].join('; ');

export async function readCpuState(shell: HostShell): Promise<CpuState> {
  const result = await shell.exec(['sh', '-c', READ_STATE], { timeoutMs: 10_000 });
  if (result.exitCode !== 0) {
    throw new InfrastructureError('CPU_STATE', `reading CPU state on ${shell.description} failed (exit ${result.exitCode}): ${result.stderr.trim().slice(-300)}`);
  }
  return parseCpuState(result.stdout);
}

export function parseCpuState(text: string): CpuState {
  const state: CpuState = { hotpluggable: [], cpusets: [] };
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    const cpu = /^cpu (\d+) ([01])$/.exec(line);
    if (cpu) state.hotpluggable.push({ cpu: Number(cpu[1]), online: cpu[2] === '1' });
    const set = /^set (\S+) (.*)$/.exec(line);
    if (set && !seen.has(set[1]!)) {
      seen.add(set[1]!);
      state.cpusets.push({ path: set[1]!, cpus: set[2]!.trim() });
    }
  }
  state.hotpluggable.sort((a, b) => a.cpu - b.cpu);
  return state;
}

/**
 * The shell script that puts a host back as recorded: CPUs that were online come back online,
 * then cpusets are written back parents first (a child cannot hold CPUs its parent lacks).
 */
export function restoreCommands(state: CpuState): string {
  const cpus = state.hotpluggable.filter((c) => c.online).map((c) => `echo 1 > ${CPU_DIR}/cpu${c.cpu}/online 2>/dev/null`);
  const sets = [...state.cpusets]
    .filter((s) => s.cpus !== '')
    .sort((a, b) => a.path.split('/').length - b.path.split('/').length)
    .map((s) => `echo ${quoteArg(s.cpus)} > ${quoteArg(s.path)} 2>/dev/null`);
  return [...cpus, ...sets, 'true'].join('; ');
}

/** The watchdog's script: restore, then give the host's CPU lock back. */
export function restoreScript(state: CpuState): string {
  return `${restoreCommands(state)}; ${UNLOCK}`;
}

/** Commands whose output says what is still different from the recorded state (empty = restored). */
export function verifyScript(state: CpuState): string {
  const checks = [
    ...state.hotpluggable.filter((c) => c.online).map((c) => `[ "$(cat ${CPU_DIR}/cpu${c.cpu}/online)" = 1 ] || echo "cpu${c.cpu} offline"`),
    ...state.cpusets.map((s) => `[ "$(cat ${quoteArg(s.path)} 2>/dev/null)" = ${quoteArg(s.cpus)} ] || [ ! -e ${quoteArg(s.path)} ] || echo "${s.path} is $(cat ${quoteArg(s.path)})"`),
  ];
  return [...checks, 'true'].join('; ');
}

export interface CpuControlHooks {
  /** Synchronous last resort for the harness's exit hook (local hosts only). */
  restoreSync?: (state: CpuState) => void;
}

/**
 * Physical CPU hot-plug: offline the highest online CPU (never cpu0), online the lowest offline
 * one. Before the first change the host's state is recorded and its restoration registered in the
 * scope *and* armed as a watchdog on the host, so success, failure, Ctrl+C, a harness crash or a
 * dropped connection all put every CPU and cpuset back.
 */
export function createHostCpuControl(shell: HostShell, scope: ResourceScope, hooks: CpuControlHooks = {}): NonNullable<MachineControls['cpus']> & { setOnline(cpu: number, online: boolean): Promise<Ack> } {
  let armed: Promise<void> | undefined;

  const arm = (): Promise<void> =>
    (armed ??= (async () => {
      await acquireHostCpuLock(shell);
      let watchdog: Watchdog | undefined;
      let state: CpuState | undefined;
      try {
        scope.register({
          name: `restore CPUs and cpusets on ${shell.description}`,
          kind: 'host-state',
          dispose: async () => {
            // Restore and verify while still holding the lock; the watchdog then repeats the
            // (idempotent) restore and unlocks, so no other cell changes CPUs in between.
            const run = state ? await shell.exec(['sh', '-c', restoreCommands(state)], { timeoutMs: 15_000 }) : undefined;
            const left = state ? await shell.exec(['sh', '-c', verifyScript(state)], { timeoutMs: 10_000 }) : undefined;
            if (watchdog) await watchdog.release(15_000);
            else await shell.exec(['sh', '-c', UNLOCK], { timeoutMs: 10_000 });
            if ((run && run.exitCode !== 0) || (left && left.stdout.trim() !== '')) {
              throw new InfrastructureError('CPU_RESTORE', `restoring CPUs on ${shell.description} left: ${left?.stdout.trim() || `exit ${run?.exitCode}`}`);
            }
          },
          disposeSync: () => {
            if (state) hooks.restoreSync?.(state);
            watchdog?.releaseSync?.();
          },
        });
      } catch (error) {
        await shell.exec(['sh', '-c', UNLOCK], { timeoutMs: 10_000 });
        throw error;
      }
      state = await readCpuState(shell);
      watchdog = await shell.armWatchdog(restoreScript(state));
    })().catch((error) => {
      armed = undefined;
      throw error;
    }));

  const setOnline = async (cpu: number, online: boolean): Promise<Ack> => {
    const file = `${CPU_DIR}/cpu${cpu}/online`;
    // One round trip: who we are, whether the CPU is hot-pluggable, then the write and its errno text.
    const probe = await shell.exec(['sh', '-c', `id -u; [ -e ${file} ] && echo present || echo absent`], { timeoutMs: 10_000 });
    const [uid, presence] = probe.stdout.trim().split('\n');
    if (presence !== 'present') {
      throw new UnsupportedError('CPU_NOT_HOTPLUGGABLE', `cpu${cpu} on ${shell.description} has no ${file}: the kernel does not allow it to be taken offline`);
    }
    if (uid !== '0') {
      throw new UnsupportedError('CPU_HOTPLUG_NOT_ROOT', `offlining or onlining a CPU on ${shell.description} needs root; the harness runs as uid ${uid}`);
    }
    await arm();
    const writeStarted = performance.now();
    const write = await shell.exec(['sh', '-c', `echo ${online ? 1 : 0} > ${file}`], { timeoutMs: 30_000 });
    const acknowledgedAt = performance.now();
    if (write.exitCode !== 0) {
      const reason = write.stderr.trim().replace(/^sh: \d+: /, '');
      const why = /busy/i.test(reason) ? 'EBUSY (the kernel refused: device busy)' : /permi|denied/i.test(reason) ? 'EPERM (not permitted: a container or a lockdown)' : reason;
      throw new UnsupportedError('CPU_WRITE_REFUSED', `writing ${online ? 1 : 0} to ${file} on ${shell.description} was refused: ${why}`, { details: { stderr: reason } });
    }
    return { acknowledgedAt, metrics: { write_ms: metric(acknowledgedAt - writeStarted, 'ms') }, detail: { cpu, online, method: `write ${online ? 1 : 0} to ${file}` } };
  };

  const requireRoot = async (): Promise<void> => {
    const uid = (await shell.exec(['id', '-u'], { timeoutMs: 10_000 })).stdout.trim();
    if (uid !== '0') throw new UnsupportedError('CPU_HOTPLUG_NOT_ROOT', `offlining or onlining a CPU on ${shell.description} needs root; the harness runs as uid ${uid}`);
  };

  const onlineCpus = async (): Promise<{ online: number[]; offline: number[] }> => {
    const state = await readCpuState(shell);
    return {
      online: state.hotpluggable.filter((c) => c.online).map((c) => c.cpu),
      offline: state.hotpluggable.filter((c) => !c.online).map((c) => c.cpu),
    };
  };

  return {
    setOnline,
    async unplug(): Promise<Ack> {
      await requireRoot();
      await arm(); // take the host lock before choosing, so another cell's change is not seen as ours
      const { online } = await onlineCpus();
      const victim = online.filter((cpu) => cpu !== 0).at(-1);
      if (victim === undefined) {
        throw new UnsupportedError('NO_CPU_TO_OFFLINE', `no hot-pluggable CPU other than cpu0 is online on ${shell.description}`);
      }
      return setOnline(victim, false);
    },
    async plug(): Promise<Ack> {
      await requireRoot();
      await arm();
      const { offline } = await onlineCpus();
      const cpu = offline[0];
      if (cpu === undefined) throw new UnsupportedError('NO_CPU_TO_ONLINE', `every hot-pluggable CPU on ${shell.description} is already online`);
      return setOnline(cpu, true);
    },
  };
}
