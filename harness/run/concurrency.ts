import { availableParallelism, freemem } from 'node:os';
import type { Cell } from '../model/cell.js';

/** Measured: one TCG guest costs ~250–280 MiB RSS on top of its RAM's touched pages, and a core. */
const GUEST_OVERHEAD_MIB = 300;

/**
 * How many cells to run at once: one per core (TCG guests are CPU-bound: 2 boot as fast as 1 on
 * 2 cores, 4 take twice as long), and no more than free memory holds.
 */
export function autoConcurrency(cells: Iterable<Pick<Cell, 'backend' | 'machine'>>, cores = availableParallelism(), freeMiB = freemem() / 2 ** 20): number {
  let count = 0;
  let vmCells = 0;
  let heaviest = 0;
  for (const cell of cells) {
    count++;
    if (cell.backend !== 'qemu' && cell.backend !== 'libvirt') continue;
    vmCells++;
    heaviest = Math.max(heaviest, cell.machine.memoryMiB);
  }
  const byMemory = vmCells > 0 ? Math.floor((freeMiB * 0.8) / (heaviest + GUEST_OVERHEAD_MIB)) : Infinity;
  return Math.max(1, Math.min(cores, byMemory, Math.max(count, 1)));
}
