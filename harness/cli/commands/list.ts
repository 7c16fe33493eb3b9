import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { formatExpansion } from '../../matrix/list.js';
import { EXIT } from '../exit-codes.js';
import { expandChecked, loadCheckedMatrix, requireCells } from '../load-checked.js';
import { loadSuitesForCell } from '../../suite/registry.js';
import { cellTimeline } from '../../suite/timeline.js';
import { predictCells } from '../../cpu/predict.js';

export async function listCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { pairwise: { type: 'boolean' }, 'no-dropped': { type: 'boolean', default: false } },
  });
  if (!positionals[0]) {
    process.stderr.write('usage: bothworlds list FILE [--pairwise] [--no-dropped]\n');
    return EXIT.usage;
  }
  const matrix = await loadCheckedMatrix(resolve(positionals[0]));
  const expansion = await expandChecked(matrix, values.pairwise === undefined ? {} : { pairwise: values.pairwise });
  // Suites add events of their own (migration-survival migrates): list them with the suite's name.
  const timelines = new Map(await Promise.all(expansion.cells.map(async (cell) => [cell.id, cellTimeline(cell, await loadSuitesForCell(cell))] as const)));
  // What the app's binaries need against each cell's CPU model: cells bound to fail are marked now, before any VM.
  const isa = await predictCells(expansion.cells);
  process.stdout.write(`${formatExpansion(expansion, { showDropped: !values['no-dropped'], timelineOf: (cell) => timelines.get(cell.id) ?? cell.events, isaOf: (cell) => isa.get(cell.id) })}\n`);
  // Printed first: the dropped combinations say why none is left.
  requireCells(matrix, expansion);
  return EXIT.ok;
}
