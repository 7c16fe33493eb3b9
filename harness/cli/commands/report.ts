import { resolve } from 'node:path';
import { readResults } from '../../report/results-store.js';
import { writeReports } from '../../report/write-all.js';
import { EXIT } from '../exit-codes.js';

/** Rewrite every report of a run folder from its results.jsonl (e.g. after a crash). */
export async function reportCommand(args: string[]): Promise<number> {
  if (!args[0]) {
    process.stderr.write('usage: bothworlds report DIR\n');
    return EXIT.usage;
  }
  const dir = resolve(args[0]);
  const written = await writeReports(await readResults(dir), dir);
  process.stdout.write(`${written.html}\n`);
  return EXIT.ok;
}
