import { totalmem } from 'node:os';
import { didYouMean } from './did-you-mean.js';

/** Axes bothworlds itself interprets; any other axis is the user's (BW_AXIS_<NAME> in the app's environment). */
export const KNOWN_AXES: readonly string[] = ['backend', 'cpu', 'vcpus', 'maxvcpus', 'memory', 'maxmem', 'slots', 'machine', 'accel', 'balloon', 'network', 'image', 'host', 'events'];

export const BACKENDS: readonly string[] = ['qemu', 'libvirt', 'local', 'ssh', 'container'];

/** QEMU: `-m …,slots=257` fails with "unsupported amount of memory slots" (ACPI's 256 DIMM slots). */
export const MAX_MEMORY_SLOTS = 256;

/** Retries re-run `error` cells: more than a few hides a broken lab instead of riding out a flake. */
export const MAX_RETRIES = 10;

/** A step repeated more often than this is a typo (1e8) or belongs in the application, not the timeline. */
export const MAX_REPEAT = 1_000;

/**
 * The hot-plug ceiling: QEMU places hot-pluggable memory above 4 GiB in a guest physical address
 * space of 40 bits (1 TiB) with the usual CPU models; measured on QEMU 10.0: maxmem=900G starts,
 * maxmem=1T fails "Address space limit 0xffffffffff < … phys-bits too low (40)". Half a TiB is safe.
 */
export const MAX_MAXMEM_MIB = 512 * 1024;

/**
 * A CPU model with optional properties (`Nehalem`, `max,-x2apic`, `Skylake-Client,pmu=off`): one
 * argv word for QEMU and one XML attribute for libvirt, never spaces, quotes or a second option.
 */
export const CPU_MODEL = /^[A-Za-z0-9_.-]+(,[+-]?[A-Za-z0-9_.=-]+)*$/;

/** The CPU model names the hypervisor accepts (QEMU's `-cpu help`), and which QEMU said so. */
export interface KnownCpuModels {
  models: ReadonlySet<string>;
  binary: string;
}

/**
 * Why a `cpu` value (a model with optional ,flags) names no model `known` lists, or undefined when
 * it does or nothing is known. libvirt's modes host-passthrough and host-model are always accepted
 * (the QEMU backend runs them as `-cpu host`).
 */
export function unknownCpuModel(model: string, known: KnownCpuModels | undefined): string | undefined {
  const name = model.split(',')[0]!;
  if (!known || known.models.has(name) || name === 'host-passthrough' || name === 'host-model') return undefined;
  return `"${name}" is not a CPU model ${known.binary} knows${didYouMean(name, known.models)}`;
}

/**
 * Most vCPUs a machine type takes (QEMU's `query-machines` cpu-max). q35 is 4096 from QEMU 9.0
 * (10.0 measured; 7.2 allows 288), pc (i440fx) 255, microvm 288; undefined for an unknown type.
 */
export function maxCpusOf(machineType: string): number | undefined {
  if (machineType === 'q35') return 4096;
  if (machineType === 'pc' || /^pc-i440fx-\d+\.\d+$/.test(machineType)) return 255;
  if (machineType === 'microvm') return 288;
  const q35 = /^pc-q35-(\d+)\.(\d+)$/.exec(machineType);
  if (!q35) return undefined;
  const version = Number(q35[1]) * 100 + Number(q35[2]);
  return version >= 900 ? 4096 : version >= 801 ? 1024 : 288;
}

export const MACHINE_TYPES: readonly string[] = ['q35', 'pc', 'microvm'];

/** This host's memory in MiB: a guest bigger than it cannot boot here. */
export function hostMemoryMiB(): number {
  return Math.floor(totalmem() / 2 ** 20);
}
