import { readFileSync } from 'node:fs';

/** This host's CPU flags as /proc/cpuinfo lists them (the harness host: the physical reference for VM cells). */
export function hostCpuFlags(): string[] {
  try {
    const flags = /^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '';
    return flags.split(/\s+/).filter(Boolean).sort();
  } catch {
    return [];
  }
}
