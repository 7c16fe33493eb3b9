import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { loadMatrix } from '../../matrix/load.js';
import { expandMatrix } from '../../matrix/expand.js';
import { formatExpansion } from '../../matrix/list.js';
import { knownEventKinds } from '../../inject/registry.js';
import { EXIT } from '../exit-codes.js';

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
  const matrix = await loadMatrix(resolve(positionals[0]), { knownEventKinds: knownEventKinds });
  const expansion = expandMatrix(matrix, values.pairwise === undefined ? {} : { pairwise: values.pairwise });
  process.stdout.write(`${formatExpansion(expansion, { showDropped: !values['no-dropped'] })}\n`);
  return EXIT.ok;
}
