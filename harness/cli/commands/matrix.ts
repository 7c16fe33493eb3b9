import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { ConfigError } from '../../core/errors.js';
import { loadMatrix } from '../../matrix/load.js';
import { expandMatrix } from '../../matrix/expand.js';
import { formatShardList } from '../../matrix/ci-formats.js';
import { knownEventKinds } from '../../inject/registry.js';
import { EXIT } from '../exit-codes.js';

export async function matrixCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { format: { type: 'string', default: 'github' }, shards: { type: 'string', default: '4' } },
  });
  if (!positionals[0]) {
    process.stderr.write('usage: bothworlds matrix FILE --format github|gitlab --shards N\n');
    return EXIT.usage;
  }
  const format = values.format;
  if (format !== 'github' && format !== 'gitlab') throw new ConfigError('CLI_OPTION', `--format must be github or gitlab, not "${format}"`);
  const shards = Number(values.shards);
  if (!Number.isInteger(shards) || shards < 1) throw new ConfigError('CLI_OPTION', `--shards must be a whole number ≥ 1, not "${values.shards}"`);
  const matrix = await loadMatrix(resolve(positionals[0]), { knownEventKinds: knownEventKinds });
  process.stdout.write(`${formatShardList(matrix, expandMatrix(matrix).cells, format, shards)}\n`);
  return EXIT.ok;
}
