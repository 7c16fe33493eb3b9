import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import type { MatrixFile } from '../matrix/load.js';
import type { Cell } from '../model/cell.js';
import type { Qualification } from '../model/qualification.js';
import type { RunInfo } from '../report/run-record.js';
import { RunFolder } from '../report/results-read.js';
import { collectProvenance } from '../certify/provenance.js';
import { PROVENANCE_FILE } from '../certify/inputs.js';
import { parsePolicy, readPolicySource, type PolicySource } from './load-policy.js';
import type { PlannedCell, Policy } from './policy.js';
import { evaluateFolder, limitSources, saveRunInputs, writeQualification } from './run-folder.js';

/** A run's qualification gate, prepared before anything starts (a bad policy is exit 2 with file:line:column). */
export interface RunGate {
  policy?: Policy;
  /** Called with the finished run before the reports are written: records the inputs, judges the results in its folder. */
  finish(run: RunInfo, dir: string): Promise<Qualification | undefined>;
}

/**
 * Read and check the policy (`--policy FILE`, else the matrix's `policy:`) against the cells to
 * run. With a policy or `record` (for --certify), the run folder keeps its inputs and the hashes
 * of what ran, so the verdict can be re-derived and the run certified from the folder alone.
 */
export async function prepareGate(matrix: MatrixFile, cells: Iterable<Cell>, options: { policyFile?: string; record?: boolean } = {}): Promise<RunGate> {
  const matrixText = await readFile(matrix.path, 'utf8');
  if (createHash('sha256').update(matrixText).digest('hex') !== matrix.hash) throw new ConfigError('MATRIX_CHANGED', `${matrix.path} changed after it was loaded: run again`);
  const source: PolicySource | undefined = await readPolicySource(matrix, options.policyFile);
  // Only a policy or a recorded run needs the plan: a plain run holds no list of its cells.
  const plan: PlannedCell[] = source || options.record ? Array.from(cells, (c) => ({ id: c.id, axes: c.axes })) : [];
  const policy = source ? parsePolicy(source, plan, limitSources(matrixText)) : undefined;
  return {
    ...(policy ? { policy } : {}),
    async finish(run, dir) {
      if (!policy && !options.record) return undefined;
      await saveRunInputs(dir, { matrixPath: matrix.path, matrixText, ...(source ? { policy: source } : {}), plan });
      const provenance = await collectProvenance(cells);
      await mkdir(dirname(join(dir, PROVENANCE_FILE)), { recursive: true });
      await writeFile(join(dir, PROVENANCE_FILE), `${JSON.stringify(provenance, null, 2)}\n`);
      if (!policy) return undefined;
      const qualification = await evaluateFolder(policy, await RunFolder.open(dir), run, plan);
      await writeQualification(dir, qualification);
      return qualification;
    },
  };
}
