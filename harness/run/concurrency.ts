import { availableParallelism, freemem } from 'node:os';
import type { Cell } from '../model/cell.js';
import type { MachineSpec } from '../model/machine-spec.js';

/** Measured: one TCG guest costs ~250–280 MiB RSS on top of its RAM's touched pages, and a core. */
const GUEST_OVERHEAD_MIB = 300;

/**
 * How many cells to run at once: one per core (TCG guests are CPU-bound: 2 boot as fast as 1 on
 * 2 cores, 4 take twice as long), and no more than free memory holds.
 */
export function autoConcurrency(cells: CellsToRun, cores = availableParallelism(), freeMiB = freemem() / 2 ** 20): number {
  const heaviest = cells.vmMachines.reduce((most, m) => Math.max(most, m.memoryMiB), 0);
  const byMemory = cells.vmMachines.length > 0 ? Math.floor((freeMiB * 0.8) / (heaviest + GUEST_OVERHEAD_MIB)) : Infinity;
  return Math.max(1, Math.min(cores, byMemory, Math.max(cells.count, 1)));
}

/** What a run needs to know of the cells it will run before it starts: one pass over them. */
export interface CellsToRun {
  count: number;
  ids: string[];
  /** The machines of the QEMU and libvirt cells (one shared object per configuration). */
  vmMachines: MachineSpec[];
  /** The machines of the QEMU cells alone (what snapshots plan for). */
  qemuMachines: MachineSpec[];
}

export function surveyCells(cells: Iterable<Cell>): CellsToRun {
  const survey: CellsToRun = { count: 0, ids: [], vmMachines: [], qemuMachines: [] };
  for (const cell of cells) {
    survey.count++;
    survey.ids.push(cell.id);
    if (cell.backend === 'qemu') survey.qemuMachines.push(cell.machine);
    if (cell.backend === 'qemu' || cell.backend === 'libvirt') survey.vmMachines.push(cell.machine);
  }
  return survey;
}
