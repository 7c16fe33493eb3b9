import { resolve } from 'node:path';
import { readResults, RESULTS_FILE } from '../../report/results-store.js';
import { folderFlag } from '../flags.js';
import { writeReports } from '../../report/write-all.js';
import { EXIT } from '../exit-codes.js';
import { parseCommand, usageLine } from '../command-spec.js';
import { SPECS } from '../specs.js';

/** Rewrite every report of a run folder from its results.jsonl (e.g. after a crash). */
export async function reportCommand(args: string[]): Promise<number> {
  const parsed = parseCommand(SPECS.report, args);
  if (!parsed) return EXIT.ok;
  const [target] = parsed.positionals;
  if (!target || parsed.positionals.length > 1) {
    process.stderr.write(`${usageLine(SPECS.report)}\n`);
    return EXIT.usage;
  }
  const dir = resolve(folderFlag('DIR', target, RESULTS_FILE));
  const written = await writeReports(await readResults(dir), dir);
  process.stdout.write(`${written.html}\n`);
  return EXIT.ok;
}
