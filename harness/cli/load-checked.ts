import { resolve } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { eventKinds } from '../inject/registry.js';
import { expandMatrix, type Expansion } from '../matrix/expand.js';
import { MatrixError } from '../matrix/errors.js';
import { loadMatrix, type MatrixFile } from '../matrix/load.js';
import { checkSuiteEvents } from '../suite/check-events.js';
import { loadSuite, suiteCatalog } from '../run/suite-registry.js';
import { qemuCpuNames } from '../machines/qemu/cpu-models.js';

/**
 * Load a matrix as every command does: besides the file's own checks, each event's `with:` is
 * validated by its kind and each suite's name and options against the suite, so every mistake
 * stops here with file:line:column (exit 2) before anything starts.
 */
export async function loadCheckedMatrix(path: string): Promise<MatrixFile> {
  const cpuModels = await qemuCpuNames();
  return loadMatrix(resolve(path), { eventKinds, suites: suiteCatalog, ...(cpuModels ? { cpuModels } : {}) });
}

/**
 * Expand as every command does, then check what the cells' suites will schedule (a vCPU plug in a
 * cell at maxvcpus, a bad parameter): a MatrixError at the suite's entry, before any VM.
 */
export async function expandChecked(matrix: MatrixFile, options: { pairwise?: boolean } = {}): Promise<Expansion> {
  const expansion = expandMatrix(matrix, options);
  const issues = await checkSuiteEvents(matrix, expansion.cells, loadSuite);
  if (issues.length > 0) throw new MatrixError(issues);
  return expansion;
}

/** A matrix that expands to no cell would run nothing and exit 0: a mistake (everything excluded or constrained away). */
export function requireCells(matrix: MatrixFile, expansion: Expansion): void {
  if (expansion.cells.length > 0) return;
  const rules = new Map<string, number>();
  for (const drop of expansion.dropped) rules.set(drop.rule, (rules.get(drop.rule) ?? 0) + 1);
  const why = [...rules].map(([rule, n]) => `${n} by ${rule}`).join(', ');
  throw new ConfigError(
    'MATRIX_EMPTY',
    `${matrix.path}: the matrix expands to 0 cells (${expansion.totalCombinations} combination(s)${why ? `, dropped: ${why}` : ''}): nothing would run; \`bothworlds list ${matrix.path}\` shows what dropped each`,
  );
}
