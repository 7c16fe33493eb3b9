import { resolve } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { eventKinds } from '../inject/registry.js';
import { expandMatrix, expandMatrixLazily, type Expansion, type LazyExpansion } from '../matrix/expand.js';
import type { Cell } from '../model/cell.js';
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
  await checkSuitesOf(matrix, expansion.cells);
  return expansion;
}

/** As expandChecked, the cells made as a run consumes them (expandMatrixLazily). */
export async function expandCheckedLazily(matrix: MatrixFile, options: { pairwise?: boolean } = {}): Promise<LazyExpansion> {
  const expansion = expandMatrixLazily(matrix, options);
  await checkSuitesOf(matrix, expansion.source);
  return expansion;
}

async function checkSuitesOf(matrix: MatrixFile, cells: Iterable<Cell>): Promise<void> {
  const issues = await checkSuiteEvents(matrix, cells, loadSuite);
  if (issues.length > 0) throw new MatrixError(issues);
}

/** A matrix that expands to no cell would run nothing and exit 0: a mistake (everything excluded or constrained away). */
export function requireCells(matrix: MatrixFile, expansion: Expansion | LazyExpansion): void {
  if (('cells' in expansion ? expansion.cells.length : expansion.source.size) > 0) return;
  const rules = new Map<string, number>();
  for (const drop of expansion.dropped) rules.set(drop.rule, (rules.get(drop.rule) ?? 0) + 1);
  const why = [...rules].map(([rule, n]) => `${n} by ${rule}`).join(', ');
  throw new ConfigError(
    'MATRIX_EMPTY',
    `${matrix.path}: the matrix expands to 0 cells (${expansion.totalCombinations} combination(s)${why ? `, dropped: ${why}` : ''}): nothing would run; \`bothworlds list ${matrix.path}\` shows what dropped each`,
  );
}
