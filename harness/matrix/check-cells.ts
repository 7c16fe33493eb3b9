import type { Cell } from '../model/cell.js';
import type { MatrixIssue } from './errors.js';
import type { MatrixFile } from './load.js';
import { formatPath, type DocPath } from './positions.js';
import { parseSizeMiB } from './units.js';

const isVm = (cell: Cell): boolean => cell.backend === 'qemu' || cell.backend === 'libvirt';
const mib = (value: number): string => (value % 1024 === 0 ? `${value / 1024}G` : `${value}M`);

interface Problem {
  path: DocPath;
  /** What the step needs, and how to give it. */
  need: string;
  cells: Cell[];
  /** What one offending cell has. */
  has(cell: Cell): string;
}

/**
 * Problems only a cell shows (its scenario with its machine): a memory plug or unplug in a VM
 * cell without `maxmem` above `memory`, a DIMM bigger than the room left, a vCPU plug beyond
 * `maxvcpus`. Each would be skipped or fail after boot; they are matrix errors at the step.
 */
export function checkCells(file: MatrixFile, cells: Cell[]): MatrixIssue[] {
  const problems = new Map<string, Problem>();
  const add = (key: string, problem: Omit<Problem, 'cells'>, cell: Cell): void => {
    const found = problems.get(key) ?? { ...problem, cells: [] };
    found.cells.push(cell);
    problems.set(key, found);
  };
  for (const cell of cells) {
    if (!isVm(cell)) continue;
    const scenario = String(cell.axes.events ?? 'none');
    const { machine } = cell;
    const roomMiB = machine.maxMemoryMiB !== undefined && machine.maxMemoryMiB > machine.memoryMiB ? machine.maxMemoryMiB - machine.memoryMiB : 0;
    (file.doc.scenarios[scenario] ?? []).forEach((event, i) => {
      const step: DocPath = ['scenarios', scenario, i];
      if ((event.kind === 'mem-plug' || event.kind === 'mem-unplug') && roomMiB === 0) {
        add(`${scenario}/${i}/maxmem`, {
          path: [...step, 'do'],
          need: `${event.kind} needs memory hot-plug: a maxmem above memory (add e.g. \`maxmem: 2G\` to defaults or axes, or exclude these cells)`,
          has: (c) => `memory ${mib(c.machine.memoryMiB)}, ${c.machine.maxMemoryMiB !== undefined ? `maxmem ${mib(c.machine.maxMemoryMiB)}` : 'no maxmem'}`,
        }, cell);
      } else if (event.kind === 'mem-plug' && roomMiB > 0) {
        const size = sizeOf(event.params.size);
        if (size !== undefined && size > roomMiB) {
          add(`${scenario}/${i}/size`, {
            path: event.params.size !== undefined ? [...step, 'with', 'size'] : [...step, 'do'],
            need: `mem-plug of ${mib(size)} does not fit below maxmem`,
            has: (c) => `memory ${mib(c.machine.memoryMiB)}, maxmem ${mib(c.machine.maxMemoryMiB!)}: room for ${mib(c.machine.maxMemoryMiB! - c.machine.memoryMiB)}`,
          }, cell);
        }
      } else if (event.kind === 'cpu-plug') {
        const count = typeof event.params.count === 'number' ? event.params.count : 1;
        if (count > machine.maxVcpus - machine.vcpus) {
          add(`${scenario}/${i}/cpus`, {
            path: event.params.count !== undefined ? [...step, 'with', 'count'] : [...step, 'do'],
            need: `cpu-plug of ${count} vCPU(s) needs maxvcpus at least vcpus + ${count} (add a maxvcpus axis or default, or exclude these cells)`,
            has: (c) => `vcpus ${c.machine.vcpus}, maxvcpus ${c.machine.maxVcpus}`,
          }, cell);
        }
      }
    });
  }
  return [...problems.values()].map((problem) => {
    const where = file.locate?.(problem.path) ?? { line: 1, column: 1 };
    const first = problem.cells[0]!;
    const scenario = String(problem.path[1]);
    return {
      file: file.path,
      ...where,
      path: formatPath(problem.path),
      message: `${problem.need}; ${problem.cells.length} cell(s) with scenario "${scenario}" lack it, e.g. ${first.id} (${problem.has(first)})`,
    };
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
