import { parseArgs } from 'node:util';
import { relative, resolve } from 'node:path';
import { loadMatrix } from '../../matrix/load.js';
import { expandMatrix } from '../../matrix/expand.js';
import { parseShard, selectShard } from '../../matrix/shard.js';
import { createProgress } from '../../report/progress.js';
import { runMatrix } from '../../run/run-matrix.js';
import { handleInterrupts } from '../../run/signals.js';
import { knownEventKinds } from '../../inject/registry.js';
import { exitCodeFor, EXIT } from '../exit-codes.js';

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
  // Validation happens before anything starts: a broken file names file:line:col and boots nothing.
  const matrix = await loadMatrix(resolve(file), { knownEventKinds: knownEventKinds });
  const expansion = expandMatrix(matrix, values.pairwise === undefined ? {} : { pairwise: values.pairwise });
  const shard = values.shard ? parseShard(values.shard) : undefined;
  const cells = shard ? selectShard(expansion.cells, shard) : expansion.cells;
  const progress = createProgress({ total: cells.length, mode: values.json ? 'json' : values.plain ? 'plain' : 'auto' });
  const interrupts = handleInterrupts((signal) =>
    progress.message(`${signal}: stopping running cells and recording them as interrupted (again to force)`),
  );
  try {
    const outcome = await runMatrix(matrix, cells, {
      reportsRoot: resolve(values.reports!),
      ...(values.resume ? { resumeDir: resolve(values.resume) } : {}),
      ...(values.concurrency ? { concurrency: Number(values.concurrency) } : {}),
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
