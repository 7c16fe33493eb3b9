import { resolve } from 'node:path';
import { formatExpansion } from '../../matrix/list.js';
import { EXIT } from '../exit-codes.js';
import { expandChecked, loadCheckedMatrix, requireCells } from '../load-checked.js';
import { loadSuitesForCell } from '../../run/suite-registry.js';
import { cellTimeline } from '../../suite/timeline.js';
import { predictCells } from '../../cpu/predict.js';
import { parseCommand, usageLine } from '../command-spec.js';
import { SPECS } from '../specs.js';

export async function listCommand(args: string[]): Promise<number> {
  const parsed = parseCommand(SPECS.list, args);
  if (!parsed) return EXIT.ok;
  const { values, positionals } = parsed;
  if (!positionals[0]) {
    process.stderr.write(`${usageLine(SPECS.list)}\n`);
    return EXIT.usage;
  }
  const matrix = await loadCheckedMatrix(resolve(positionals[0]));
  const expansion = await expandChecked(matrix, values.pairwise === undefined ? {} : { pairwise: values.pairwise });
  // Suites add events of their own (migration-survival migrates): list them with the suite's name.
  const timelines = new Map(await Promise.all(expansion.cells.map(async (cell) => [cell.id, cellTimeline(cell, await loadSuitesForCell(cell))] as const)));
  // What the app's binaries need against each cell's CPU model: cells bound to fail are marked now, before any VM.
  const isa = await predictCells(expansion.cells);
  if (values.json) {
    // For scripts: the same cells and drops, as one JSON document (an empty matrix is still exit 2 below).
    const cells = expansion.cells.map((cell) => ({ id: cell.id, axes: cell.axes, backend: cell.backend, machine: cell.machine, suites: cell.suites.map((s) => s.name), timeline: timelines.get(cell.id) ?? cell.events, ...(isa.get(cell.id)?.expected ? { expected: isa.get(cell.id)!.expected } : {}) }));
    process.stdout.write(`${JSON.stringify({ matrix: matrix.name, totalCombinations: expansion.totalCombinations, cells, dropped: values['no-dropped'] ? [] : expansion.dropped })}\n`);
    requireCells(matrix, expansion);
    return EXIT.ok;
  }
  process.stdout.write(`${formatExpansion(expansion, { showDropped: !values['no-dropped'], timelineOf: (cell) => timelines.get(cell.id) ?? cell.events, isaOf: (cell) => isa.get(cell.id) })}\n`);
  // Printed first: the dropped combinations say why none is left.
  requireCells(matrix, expansion);
  return EXIT.ok;
}
