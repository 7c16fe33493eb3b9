import type { MachineControls } from '../../machine.js';
import type { QemuMachine } from '../machine.js';
import { createPauseControl } from './pause.js';
import { createClockControl } from './clock.js';

/**
 * The QEMU backend's controls, one file per facet. A facet that cannot work on this QEMU/host
 * is left out and its reason recorded, so the event is skipped rather than attempted.
 */
export function createQemuControls(machine: QemuMachine): MachineControls {
  return {
    pause: createPauseControl(machine),
    clock: createClockControl(machine),
    unsupportedReason: {},
  };
}
