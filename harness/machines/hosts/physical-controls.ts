import type { MachineControls } from '../machine.js';
import type { ResourceScope } from '../../core/scope.js';
import { createHostCpuControl, type CpuControlHooks } from './cpu-hotplug.js';
import { createMemoryPressureControl } from './memory-pressure.js';
import type { HostShell } from './shell.js';

/** Events a physical host cannot undergo, and why (the cell is skipped with this reason). */
export const PHYSICAL_UNSUPPORTED: MachineControls['unsupportedReason'] = {
  migrate: 'a physical host cannot be live-migrated',
  balloon: 'a physical host has no balloon device; use memory-pressure (allocate and hold) instead',
  pause: 'a physical host cannot be paused as a whole (stopping every process would stop the harness too)',
  clock: 'the harness does not set a physical host\'s wall clock (it would disturb everything else on the host)',
  memory: 'physical memory cannot be hot-plugged from software, and offlining a memory block is refused by the kernel ("Device or resource busy" on the project\'s hosts, PLATFORM-NOTES); use memory-pressure instead',
};

export function createPhysicalControls(shell: HostShell, scope: ResourceScope, hooks: CpuControlHooks = {}): MachineControls {
  return {
    cpus: createHostCpuControl(shell, scope, hooks),
    memoryPressure: createMemoryPressureControl(shell, scope),
    unsupportedReason: { ...PHYSICAL_UNSUPPORTED },
  };
}
