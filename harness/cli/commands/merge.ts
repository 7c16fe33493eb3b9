import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { readResults } from '../../report/results-store.js';
import { mergeRuns, missingParts, writeMergedResults } from '../../report/merge.js';
import { writeReports } from '../../report/write-all.js';
import { exitCodeFor, EXIT } from '../exit-codes.js';
import { parseCommand, usageLine } from '../command-spec.js';
import { SPECS } from '../specs.js';

export async function mergeCommand(args: string[]): Promise<number> {
  const parsed = parseCommand(SPECS.merge, args);
  if (!parsed) return EXIT.ok;
  const { values, positionals } = parsed;
  if (positionals.length === 0 || !values.out) {
    process.stderr.write(`${usageLine(SPECS.merge)}\n`);
    return EXIT.usage;
  }
  const records = await Promise.all(positionals.map((dir) => readResults(resolve(dir))));
  const merged = mergeRuns(records, { allowPartial: values['allow-partial'] === true });
  const out = resolve(values.out);
  await mkdir(out, { recursive: true });
  await writeMergedResults(merged, out);
  const written = await writeReports(merged, out);
  const gaps = missingParts(records);
  if (gaps.length > 0) process.stderr.write(`partial merge (--allow-partial): ${gaps.join('; ')}\n`);
  process.stdout.write(`merged ${records.length} run(s), ${merged.cells.length} cell(s)${gaps.length > 0 ? ' (partial)' : ''}: ${written.html}\n`);
  return exitCodeFor(merged.cells, merged.interrupted);
}
