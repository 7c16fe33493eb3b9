import { resolve } from 'node:path';
import { formatShardList } from '../../matrix/ci-formats.js';
import { EXIT } from '../exit-codes.js';
import { choiceFlag, intFlag } from '../flags.js';
import { expandChecked, loadCheckedMatrix, requireCells } from '../load-checked.js';
import { parseCommand, usageLine } from '../command-spec.js';
import { SPECS } from '../specs.js';

export async function matrixCommand(args: string[]): Promise<number> {
  const parsed = parseCommand(SPECS.matrix, args);
  if (!parsed) return EXIT.ok;
  const { values, positionals } = parsed;
  if (!positionals[0]) {
    process.stderr.write(`${usageLine(SPECS.matrix)}\n`);
    return EXIT.usage;
  }
  const format = choiceFlag('format', values.format!, ['github', 'gitlab'] as const);
  // GitHub Actions refuses a job matrix of more than 256 jobs.
  const shards = intFlag('shards', values.shards!, { min: 1, max: 256 });
  const matrix = await loadCheckedMatrix(resolve(positionals[0]));
  const expansion = await expandChecked(matrix);
  requireCells(matrix, expansion);
  process.stdout.write(`${formatShardList(matrix, expansion.cells, format, shards, { matrixPath: positionals[0], command: values.command! })}\n`);
  return EXIT.ok;
}
