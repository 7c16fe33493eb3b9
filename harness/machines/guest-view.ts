import { countCpuList } from './facts.js';
import type { StartedMachine } from './machine.js';

/** Online CPUs as the guest (or host) sees them. */
export async function onlineCpus(machine: Pick<StartedMachine, 'exec'>): Promise<number> {
  const result = await machine.exec(['cat', '/sys/devices/system/cpu/online'], { timeoutMs: 10_000 });
  return countCpuList(result.stdout.trim());
}

/** MemTotal and MemAvailable in KiB. */
export async function memInfo(machine: Pick<StartedMachine, 'exec'>): Promise<{ totalKiB: number; availableKiB: number }> {
  const result = await machine.exec(['cat', '/proc/meminfo'], { timeoutMs: 10_000 });
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(result.stdout)?.[1] ?? Number.NaN);
  return { totalKiB: field('MemTotal'), availableKiB: field('MemAvailable') };
}
