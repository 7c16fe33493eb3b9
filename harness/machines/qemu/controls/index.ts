import type { MachineControls } from '../../machine.js';
import type { QemuMachine } from '../machine.js';
import { createPauseControl } from './pause.js';
import { createClockControl } from './clock.js';
import { createCpuControl } from './cpus.js';
import { createMemoryControl } from './memory.js';
import { createBalloonControl } from './balloon.js';
import { createMigrateControl } from './migrate.js';

/**
 * The QEMU backend's controls, one file per facet. A facet that cannot work for this machine is
 * left out and its reason recorded, so the event is skipped rather than attempted.
 */
export function createQemuControls(machine: QemuMachine): MachineControls {
  const { spec } = machine;
  const unsupportedReason: MachineControls['unsupportedReason'] = {
    memoryPressure: 'memory pressure is the physical counterpart of ballooning; use a balloon event on VMs',
  };
  const canPlugCpu = spec.maxVcpus > spec.vcpus;
  const canPlugMemory = spec.maxMemoryMiB !== undefined && spec.maxMemoryMiB > spec.memoryMiB;
  if (!canPlugCpu) unsupportedReason.cpus = `vCPU hot-plug needs maxvcpus > vcpus (this cell has ${spec.vcpus} of ${spec.maxVcpus})`;
  if (!canPlugMemory) unsupportedReason.memory = 'memory hot-plug needs maxmem (and slots) above memory in the matrix';
  if (!spec.balloon) unsupportedReason.balloon = 'the cell has balloon: false';
  return {
    pause: createPauseControl(machine),
    clock: createClockControl(machine),
    migrate: createMigrateControl(machine),
    ...(canPlugCpu ? { cpus: createCpuControl(machine) } : {}),
    ...(canPlugMemory ? { memory: createMemoryControl(machine) } : {}),
    ...(spec.balloon ? { balloon: createBalloonControl(machine) } : {}),
    unsupportedReason,
  };
}
