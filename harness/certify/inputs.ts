import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { expandMatrix } from '../matrix/expand.js';
import { loadMatrix } from '../matrix/load.js';
import type { Cell } from '../model/cell.js';
import { readPolicySource } from '../policy/load-policy.js';
import { INPUTS, readRunInputs, type RunInputs } from '../policy/run-folder.js';
import type { RunRecord } from '../report/run-record.js';
import { collectProvenance, type Provenance } from './provenance.js';

export const PROVENANCE_FILE = 'inputs/provenance.json';

/** Cells of the original matrix that this run planned: re-expanded from the file, which must be unchanged. */
async function plannedCells(record: RunRecord): Promise<{ text: string; cells: Cell[] }> {
  let text: string;
  try {
    text = await readFile(record.matrix.path, 'utf8');
  } catch (cause) {
    throw new ConfigError('CERTIFY_MATRIX_MISSING', `the run recorded no inputs/ and its matrix ${record.matrix.path} cannot be read: certify needs the matrix as it was`, { cause });
  }
  const matrix = await loadMatrix(record.matrix.path);
  if (matrix.hash !== record.matrix.hash) {
    throw new ConfigError('CERTIFY_MATRIX_CHANGED', `${record.matrix.path} changed since the run (sha256 ${record.matrix.hash.slice(0, 12)}… then, ${matrix.hash.slice(0, 12)}… now): certify needs the matrix as it was`);
  }
  const planned = new Set(record.cellIds);
  return { text, cells: expandMatrix(matrix, { collectDropped: false }).cells.filter((c) => planned.has(c.id)) };
}

/**
 * What a bundle records besides the run folder's files: the matrix, the policy, the planned
 * cells and the hashes of what they ran. A run made with a policy or --certify recorded them in
 * inputs/; for another run they are derived now from the matrix file (refused if it changed).
 */
export async function bundleInputs(runDir: string, record: RunRecord, options: { policyFile?: string } = {}): Promise<{ inputs: RunInputs; provenance: Provenance }> {
  let inputs = await readRunInputs(runDir);
  let provenance: Provenance | undefined = existsSync(join(runDir, PROVENANCE_FILE)) ? (JSON.parse(await readFile(join(runDir, PROVENANCE_FILE), 'utf8')) as Provenance) : undefined;
  let derived: { text: string; cells: Cell[] } | undefined;
  if (!inputs || !provenance) derived = await plannedCells(record);
  if (!inputs) {
    const policy = await readPolicySource({ path: record.matrix.path, hash: record.matrix.hash }, options.policyFile);
    inputs = { matrixText: derived!.text, plan: derived!.cells.map((c) => ({ id: c.id, axes: c.axes })), ...(policy ? { policy } : {}) };
  } else if (options.policyFile !== undefined) {
    if (inputs.policy) throw new ConfigError('CERTIFY_POLICY_RECORDED', `${runDir} ran under the policy it recorded in ${INPUTS.dir}/: certify judges it by that one (drop --policy)`);
    const policy = await readPolicySource({ path: '', hash: '' }, options.policyFile);
    inputs = { ...inputs, ...(policy ? { policy } : {}) };
  }
  provenance ??= await collectProvenance(derived!.cells);
  return { inputs, provenance };
}
