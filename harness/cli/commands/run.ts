import { relative, resolve } from 'node:path';
import { parseShard, selectShardFrom } from '../../matrix/shard.js';
import { selectFrom } from '../../matrix/select.js';
import { mapCells } from '../../matrix/cell-source.js';
import { createProgress } from '../../report/progress.js';
import { runMatrix } from '../../run/run-matrix.js';
import { handleInterrupts } from '../../run/signals.js';
import { readResults, RESULTS_FILE } from '../../report/results-store.js';
import { exitCodeFor, EXIT } from '../exit-codes.js';
import { exclusiveFlags, folderFlag, intFlag } from '../flags.js';
import { expandCheckedLazily, loadCheckedMatrix, requireCells } from '../load-checked.js';
import { parseCommand, usageLine } from '../command-spec.js';
import { SPECS } from '../specs.js';
import { githubAnnotations } from '../../report/github-annotations.js';
import { ConfigError } from '../../core/errors.js';
import { prepareGate } from '../../policy/gate.js';
import { qualificationLines } from '../../report/qualification-text.js';
import { certifyTo } from './certify.js';

/** More cells at once than this is a typo: each VM cell needs a core and hundreds of MiB. */
const MAX_CONCURRENCY = 256;

/** What --rerun-failed runs again: everything that did not pass or skip. */
const RERUN_OUTCOMES = new Set(['failed', 'error', 'incomplete', 'interrupted']);

export async function runCommand(args: string[]): Promise<number> {
  const parsed = parseCommand(SPECS.run, args);
  if (!parsed) return EXIT.ok;
  const { values, positionals } = parsed;
  const [file] = positionals;
  if (!file) {
    process.stderr.write(`${usageLine(SPECS.run)}\n`);
    return EXIT.usage;
  }
  // Machine output (NDJSON) owns stdout; everything for a person goes to stderr.
  const json = values.json === true;
  const emit = (event: Record<string, unknown>) => {
    if (json) process.stdout.write(`${JSON.stringify({ at: new Date().toISOString(), ...event })}\n`);
  };
  // Validation happens before anything starts: a bad flag or a broken file (file:line:col) boots nothing.
  const concurrency = values.concurrency !== undefined ? intFlag('concurrency', values.concurrency, { min: 1, max: MAX_CONCURRENCY }) : undefined;
  const shard = values.shard !== undefined ? parseShard(values.shard) : undefined;
  const repeat = values.repeat !== undefined ? intFlag('repeat', values.repeat, { min: 1, max: 1000 }) : undefined;
  if (values.resume !== undefined) folderFlag('resume', values.resume, RESULTS_FILE);
  if (values['rerun-failed'] !== undefined) folderFlag('rerun-failed', values['rerun-failed'], RESULTS_FILE);
  exclusiveFlags(values, ['json', 'plain']);
  exclusiveFlags(values, ['resume', 'rerun-failed']);
  const matrix = await loadCheckedMatrix(file);
  // Cells are made as the run takes them (a 10,000-cell run holds no list of them), checked first.
  const expansion = await expandCheckedLazily(matrix, values.pairwise === undefined ? {} : { pairwise: values.pairwise });
  requireCells(matrix, expansion);
  const rerun = values['rerun-failed'] !== undefined ? await failedIds(values['rerun-failed']) : undefined;
  const picked = selectFrom(expansion.source, { ...(values.only ? { only: values.only } : {}), ...(values.filter !== undefined ? { filter: values.filter } : {}), ...(rerun ? { ids: rerun } : {}) });
  const sharded = shard ? selectShardFrom(picked, shard) : picked;
  const cells = repeat === undefined ? sharded : mapCells(sharded, (cell) => ({ ...cell, repeat }));
  if (cells.size === 0) {
    // Not a mistake: a fixed CI shard count can exceed what a small matrix fills, and a green run has nothing to rerun. No run folder is written.
    const why = rerun
      ? `${values['rerun-failed']} has no failed, error, incomplete or interrupted cell of this matrix: nothing to rerun`
      : shard
        ? `shard ${shard.index}/${shard.total} holds none of ${picked === expansion.source ? "the matrix's" : 'the selected'} ${picked.size} cell(s): nothing to run`
        : 'no cell selected: nothing to run';
    process.stderr.write(`${why}\n`);
    emit({ event: 'nothing-to-run', reason: why, exitCode: EXIT.ok });
    return EXIT.ok;
  }
  // The policy is checked against the cells before anything starts, like the matrix (exit 2 with file:line:column).
  if (values.certify !== undefined && values.key === undefined && values['gpg-key'] === undefined) throw new ConfigError('CLI_OPTION', '--certify needs --key FILE (an OpenSSH key) or --gpg-key ID to sign the bundle');
  const gate = await prepareGate(matrix, cells, { ...(values.policy !== undefined ? { policyFile: values.policy } : {}), record: values.certify !== undefined });
  const progress = createProgress({ total: cells.size, mode: json ? 'json' : values.plain ? 'plain' : 'auto', ...(json ? { stream: process.stdout } : {}) });
  const interrupts = handleInterrupts((signal) => {
    const text = `${signal}: stopping running cells and recording them as interrupted (again to force)`;
    if (json) process.stderr.write(`${text}\n`);
    progress.message(text);
  });
  try {
    const outcome = await runMatrix(matrix, cells, {
      reportsRoot: resolve(values.reports!),
      ...(values.resume ? { resumeDir: resolve(values.resume) } : {}),
      ...(concurrency !== undefined ? { concurrency } : {}),
      ...(shard ? { shard } : {}),
      snapshots: !values['no-snapshot'],
      signal: interrupts.signal,
      progress,
      qualify: gate.finish,
    });
    progress.close();
    const { qualification } = outcome.record;
    if (qualification) process.stderr.write(`\n${qualificationLines(qualification).join('\n')}\n`);
    if (values.certify !== undefined) await certifyTo(outcome.dir, values.certify, { ...(values.key !== undefined ? { sshKey: values.key } : {}), ...(values['gpg-key'] !== undefined ? { gpgKey: values['gpg-key'] } : {}) });
    // Under a policy the verdict is the gate: failures it accepts do not fail the run, a broken limit does.
    const exitCode = gate.policy && !outcome.record.interrupted ? (qualification?.verdict === 'qualified' ? EXIT.ok : EXIT.notQualified) : exitCodeFor(outcome.record.cells, outcome.record.interrupted);
    const where = relative(process.cwd(), outcome.dir) || '.';
    const files = { html: `${where}/index.html`, junit: `${where}/junit.xml`, json: `${where}/results.json`, jsonl: `${where}/results.jsonl`, markdown: `${where}/summary.md` };
    // On GitHub Actions a failed cell is an annotation on the run page, not only a line in a log.
    // The runner reads workflow commands on stdout and stderr; stdout stays pure NDJSON under --json.
    if (process.env.GITHUB_ACTIONS === 'true') (json ? process.stderr : process.stdout).write(githubAnnotations(outcome.record, { htmlReport: files.html }));
    process.stderr.write(`\nreports: ${files.html}  ${files.junit}  ${files.json}  ${files.markdown}\n`);
    emit({ event: 'reports', dir: where, files, exitCode });
    return exitCode;
  } finally {
    interrupts.uninstall();
  }
}

/** The cells of an earlier run that did not pass or skip (its latest attempt at each). */
async function failedIds(dir: string): Promise<Set<string>> {
  const record = await readResults(resolve(dir));
  return new Set(record.cells.filter((c) => RERUN_OUTCOMES.has(c.outcome)).map((c) => c.id));
}
