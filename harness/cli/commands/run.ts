import { parseArgs } from 'node:util';
import { relative, resolve } from 'node:path';
import { parseShard, selectShard } from '../../matrix/shard.js';
import { createProgress } from '../../report/progress.js';
import { runMatrix } from '../../run/run-matrix.js';
import { handleInterrupts } from '../../run/signals.js';
import { RESULTS_FILE } from '../../report/results-store.js';
import { exitCodeFor, EXIT } from '../exit-codes.js';
import { exclusiveFlags, folderFlag, intFlag } from '../flags.js';
import { expandChecked, loadCheckedMatrix, requireCells } from '../load-checked.js';

/** More cells at once than this is a typo: each VM cell needs a core and hundreds of MiB. */
const MAX_CONCURRENCY = 256;

export async function runCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      shard: { type: 'string' },
      resume: { type: 'string' },
      concurrency: { type: 'string' },
      reports: { type: 'string', default: 'reports' },
      pairwise: { type: 'boolean' },
      json: { type: 'boolean', default: false },
      plain: { type: 'boolean', default: false },
      'no-snapshot': { type: 'boolean', default: false },
    },
  });
  const [file] = positionals;
  if (!file) {
    process.stderr.write('usage: bothworlds run FILE [--shard k/n] [--resume DIR] [--concurrency N] [--reports DIR] [--no-snapshot] [--json|--plain]\n');
    return EXIT.usage;
  }
  // Validation happens before anything starts: a bad flag or a broken file (file:line:col) boots nothing.
  const concurrency = values.concurrency !== undefined ? intFlag('concurrency', values.concurrency, { min: 1, max: MAX_CONCURRENCY }) : undefined;
  const shard = values.shard !== undefined ? parseShard(values.shard) : undefined;
  if (values.resume !== undefined) folderFlag('resume', values.resume, RESULTS_FILE);
  exclusiveFlags(values, ['json', 'plain']);
  const matrix = await loadCheckedMatrix(file);
  const expansion = await expandChecked(matrix, values.pairwise === undefined ? {} : { pairwise: values.pairwise });
  requireCells(matrix, expansion);
  const cells = shard ? selectShard(expansion.cells, shard) : expansion.cells;
  if (shard && cells.length === 0) {
    // Not a mistake: a fixed CI shard count can exceed what a small matrix fills. No run folder is written.
    process.stderr.write(`shard ${shard.index}/${shard.total} holds none of the matrix's ${expansion.cells.length} cell(s): nothing to run\n`);
    return EXIT.ok;
  }
  const progress = createProgress({ total: cells.length, mode: values.json ? 'json' : values.plain ? 'plain' : 'auto' });
  const interrupts = handleInterrupts((signal) =>
    progress.message(`${signal}: stopping running cells and recording them as interrupted (again to force)`),
  );
  try {
    const outcome = await runMatrix(matrix, cells, {
      reportsRoot: resolve(values.reports!),
      ...(values.resume ? { resumeDir: resolve(values.resume) } : {}),
      ...(concurrency !== undefined ? { concurrency } : {}),
      ...(shard ? { shard } : {}),
      snapshots: !values['no-snapshot'],
      signal: interrupts.signal,
      progress,
    });
    progress.close();
    const where = relative(process.cwd(), outcome.dir) || '.';
    process.stderr.write(`\nreports: ${where}/index.html  ${where}/junit.xml  ${where}/results.json  ${where}/summary.md\n`);
    return exitCodeFor(outcome.record.cells, outcome.record.interrupted);
  } finally {
    interrupts.uninstall();
  }
}
