import { resolve } from 'node:path';
import { readResults } from '../../report/results-store.js';
import { assertComparable, compareRuns, formatComparison } from '../../report/compare.js';
import { EXIT } from '../exit-codes.js';
import { choiceFlag, numberFlag } from '../flags.js';
import { parseCommand, usageLine } from '../command-spec.js';
import { SPECS } from '../specs.js';

/** `compare OLD NEW`: each side may list several run folders (repeats), comma-separated. */
export async function compareCommand(args: string[]): Promise<number> {
  const parsed = parseCommand(SPECS.compare, args);
  if (!parsed) return EXIT.ok;
  const { values, positionals } = parsed;
  if (positionals.length !== 2) {
    process.stderr.write(`${usageLine(SPECS.compare)}\n`);
    return EXIT.usage;
  }
  const format = choiceFlag('format', values.format!, ['text', 'markdown', 'json'] as const);
  const alpha = values.alpha !== undefined ? numberFlag('alpha', values.alpha, { above: 0, below: 1 }) : undefined;
  const read = (list: string) => Promise.all(list.split(',').map((dir) => readResults(resolve(dir))));
  const [before, after] = await Promise.all([read(positionals[0]!), read(positionals[1]!)]);
  assertComparable(before, after, { allowIncomplete: values['allow-incomplete'] === true, allowDifferentMatrix: values['allow-different-matrix'] === true });
  const comparison = compareRuns(before, after, alpha !== undefined ? { alpha } : {});
  process.stdout.write(`${formatComparison(comparison, format)}\n`);
  const worse = comparison.regressions.length > 0 || comparison.changed.some((c) => c.before === 'passed' && c.after !== 'passed');
  return worse ? EXIT.failed : EXIT.ok;
}
