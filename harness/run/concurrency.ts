import { availableParallelism, freemem } from 'node:os';
import type { Cell } from '../model/cell.js';

/** Measured: one TCG guest costs ~250–280 MiB RSS on top of its RAM's touched pages, and a core. */
const GUEST_OVERHEAD_MIB = 300;

/**
 * How many cells to run at once: one per core (TCG guests are CPU-bound: 2 boot as fast as 1 on
 * 2 cores, 4 take twice as long), and no more than free memory holds.
 */
export function autoConcurrency(cells: Cell[], cores = availableParallelism(), freeMiB = freemem() / 2 ** 20): number {
  const vmCells = cells.filter((c) => c.backend === 'qemu' || c.backend === 'libvirt');
  const heaviest = Math.max(0, ...vmCells.map((c) => c.machine.memoryMiB));
  const byMemory = vmCells.length > 0 ? Math.floor((freeMiB * 0.8) / (heaviest + GUEST_OVERHEAD_MIB)) : Infinity;
  return Math.max(1, Math.min(cores, byMemory, Math.max(cells.length, 1)));
}
