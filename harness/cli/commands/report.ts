import { resolve } from 'node:path';
import { readResults, RESULTS_FILE } from '../../report/results-store.js';
import { folderFlag } from '../flags.js';
import { writeReports } from '../../report/write-all.js';
import { EXIT } from '../exit-codes.js';
import { parseCommand, usageLine } from '../command-spec.js';
import { SPECS } from '../specs.js';
import { qualifyRunFolder } from '../../policy/run-folder.js';

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
  const record = await readResults(dir);
  // A run made under a policy keeps it (inputs/): its verdict heads the rewritten reports too.
  const qualification = await qualifyRunFolder(dir, record);
  const written = await writeReports(qualification ? { ...record, qualification } : record, dir);
  process.stdout.write(`${written.html}\n`);
  return EXIT.ok;
}
