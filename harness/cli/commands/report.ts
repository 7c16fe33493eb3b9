import { resolve } from 'node:path';
import { RESULTS_FILE } from '../../report/results-store.js';
import { RunFolder } from '../../report/results-read.js';
import { folderFlag } from '../flags.js';
import { writeFolderReports } from '../../report/write-all.js';
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
  // Streamed from results.jsonl a cell at a time: a run of any size is reported in bounded memory.
  const folder = await RunFolder.open(dir);
  // A run made under a policy keeps it (inputs/): its verdict heads the rewritten reports too.
  const qualification = await qualifyRunFolder(folder);
  const written = await writeFolderReports(folder, qualification ? { ...folder.info, qualification } : folder.info);
  process.stdout.write(`${written.paths.html}\n`);
  return EXIT.ok;
}
