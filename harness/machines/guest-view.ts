import { countCpuList } from './facts.js';
import type { StartedMachine } from './machine.js';

/**
 * CPUs a new process may run on (`nproc`: sched_getaffinity), which is the online count on VMs and
 * hosts and the cpuset in a container; /sys/devices/system/cpu/online when nproc is missing.
 */
export async function onlineCpus(machine: Pick<StartedMachine, 'exec'>): Promise<number> {
  const result = await machine.exec(['sh', '-c', 'nproc 2>/dev/null || cat /sys/devices/system/cpu/online'], { timeoutMs: 10_000 });
  const text = result.stdout.trim();
  return /^\d+$/.test(text) ? Number(text) : countCpuList(text);
}

/** MemTotal and MemAvailable in KiB. */
export async function memInfo(machine: Pick<StartedMachine, 'exec'>): Promise<{ totalKiB: number; availableKiB: number }> {
  const result = await machine.exec(['cat', '/proc/meminfo'], { timeoutMs: 10_000 });
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(result.stdout)?.[1] ?? Number.NaN);
  return { totalKiB: field('MemTotal'), availableKiB: field('MemAvailable') };
}
