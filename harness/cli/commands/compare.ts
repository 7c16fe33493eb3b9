import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { readResults } from '../../report/results-store.js';
import { compareRuns, formatComparison } from '../../report/compare.js';
import { EXIT } from '../exit-codes.js';

/** `compare OLD NEW`: each side may list several run folders (repeats), comma-separated. */
export async function compareCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { format: { type: 'string', default: 'text' }, alpha: { type: 'string' } },
  });
  if (positionals.length !== 2) {
    process.stderr.write('usage: bothworlds compare OLD[,OLD...] NEW[,NEW...] [--format text|markdown|json] [--alpha 0.05]\n');
    return EXIT.usage;
  }
  const read = (list: string) => Promise.all(list.split(',').map((dir) => readResults(resolve(dir))));
  const [before, after] = await Promise.all([read(positionals[0]!), read(positionals[1]!)]);
  const comparison = compareRuns(before, after, values.alpha ? { alpha: Number(values.alpha) } : {});
  process.stdout.write(`${formatComparison(comparison, values.format as 'text')}\n`);
  const worse = comparison.regressions.length > 0 || comparison.changed.some((c) => c.before === 'passed' && c.after !== 'passed');
  return worse ? EXIT.failed : EXIT.ok;
}
