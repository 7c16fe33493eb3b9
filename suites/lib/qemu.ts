import type { StartedMachine } from '../../harness/machines/machine.js';
import { QemuMachine } from '../../harness/machines/qemu/machine.js';

/** The QEMU machine behind a context, for QEMU-only extras (QMP, QEMU's warnings); undefined elsewhere. */
export function asQemu(machine: StartedMachine): QemuMachine | undefined {
  return machine instanceof QemuMachine ? machine : undefined;
}
