import type { Cell, TimelineEvent } from '../model/cell.js';
import type { MatrixIssue } from './errors.js';
import type { MatrixFile } from './load.js';
import { formatPath, type DocPath } from './positions.js';
import { parseSizeMiB } from './units.js';

const isVm = (cell: Cell): boolean => cell.backend === 'qemu' || cell.backend === 'libvirt';
const mib = (value: number): string => (value % 1024 === 0 ? `${value / 1024}G` : `${value}M`);

/** What a VM cell's machine lacks for an event: what the event needs, what the cell has, and the parameter at fault. */
export interface Lack {
  /** A stable name of the problem, to report it once for all the cells that share it. */
  key: string;
  need: string;
  has: string;
  param?: string;
}

/**
 * What stops `event` in this cell's machine: a memory plug or unplug without `maxmem` above
 * `memory`, a DIMM bigger than the room left, a vCPU plug beyond `maxvcpus`. Each would be
 * skipped (the cell incomplete) or fail after boot; the caller makes it a matrix error at the step
 * that asks for it. `optional: true` events are left alone.
 */
export function machineLacks(cell: Cell, event: TimelineEvent): Lack | undefined {
  // An optional event may not happen: the user said so.
  if (!isVm(cell) || event.optional) return undefined;
  const { machine } = cell;
  const roomMiB = machine.maxMemoryMiB !== undefined && machine.maxMemoryMiB > machine.memoryMiB ? machine.maxMemoryMiB - machine.memoryMiB : 0;
  if ((event.kind === 'mem-plug' || event.kind === 'mem-unplug') && roomMiB === 0) {
    return {
      key: 'maxmem',
      need: `${event.kind} needs memory hot-plug: a maxmem above memory (add e.g. \`maxmem: 2G\` to defaults or axes, or exclude these cells)`,
      has: `memory ${mib(machine.memoryMiB)}, ${machine.maxMemoryMiB !== undefined ? `maxmem ${mib(machine.maxMemoryMiB)}` : 'no maxmem'}`,
    };
  }
  if (event.kind === 'mem-plug') {
    const size = sizeOf(event.params.size);
    if (size !== undefined && size > roomMiB) {
      return { key: 'size', need: `mem-plug of ${mib(size)} does not fit below maxmem`, has: `memory ${mib(machine.memoryMiB)}, maxmem ${mib(machine.maxMemoryMiB!)}: room for ${mib(roomMiB)}`, param: 'size' };
    }
  }
  if (event.kind === 'cpu-plug') {
    const count = typeof event.params.count === 'number' ? event.params.count : 1;
    if (count > machine.maxVcpus - machine.vcpus) {
      return {
        key: 'cpus',
        need: `cpu-plug of ${count} vCPU(s) needs maxvcpus at least vcpus + ${count} (add a maxvcpus axis or default, or exclude these cells)`,
        has: `vcpus ${machine.vcpus}, maxvcpus ${machine.maxVcpus}`,
        param: 'count',
      };
    }
  }
  return undefined;
}

/** Problems shared by several cells, reported once at `path` with how many cells and one example. */
export class LackReport {
  private readonly found = new Map<string, { path: DocPath; lack: Lack; cells: Cell[]; context: string }>();

  add(path: DocPath, lack: Lack, cell: Cell, context: string): void {
    const key = `${formatPath(path)}/${lack.key}`;
    const entry = this.found.get(key) ?? { path, lack, cells: [], context };
    entry.cells.push(cell);
    this.found.set(key, entry);
  }

  issues(file: MatrixFile): MatrixIssue[] {
    return [...this.found.values()].map(({ path, lack, cells, context }) => ({
      file: file.path,
      ...(file.locate?.(path) ?? { line: 1, column: 1 }),
      path: formatPath(path),
      message: `${lack.need}; ${cells.length} cell(s) ${context} lack it, e.g. ${cells[0]!.id} (${lack.has})`,
    }));
  }
}

/** Adds to `report` every scenario step the cell's machine cannot do, at the step (or its parameter). */
export function checkCell(file: MatrixFile, cell: Cell, report: LackReport): void {
  const scenario = String(cell.axes.events ?? 'none');
  (file.doc.scenarios[scenario] ?? []).forEach((event, i) => {
    const lack = machineLacks(cell, event);
    if (!lack) return;
    const step: DocPath = ['scenarios', scenario, i];
    report.add(lack.param !== undefined && event.params[lack.param] !== undefined ? [...step, 'with', lack.param] : [...step, 'do'], lack, cell, `with scenario "${scenario}"`);
  });
}

/** The size of a DIMM in MiB as mem-plug reads it (default 128M); undefined when it does not parse (reported at load). */
function sizeOf(value: unknown): number | undefined {
  try {
    return value === undefined ? 128 : parseSizeMiB(value as string | number);
  } catch {
    return undefined;
  }
}
