import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError } from '../core/errors.js';
import { knownEventKinds } from '../inject/registry.js';
import type { Qualification } from '../model/qualification.js';
import type { RunInfo } from '../report/run-record.js';
import { RunFolder } from '../report/results-read.js';
import { suiteCatalog } from '../run/suite-registry.js';
import { PolicyTally } from './evaluate.js';
import { parsePolicy, type PolicySource } from './load-policy.js';
import type { PlannedCell, Policy } from './policy.js';

/**
 * What a run folder keeps so its verdict can be re-derived anywhere, from the folder alone:
 * the matrix file's bytes, the policy's (when it is a file of its own), and the planned cells with
 * their axis values (results.jsonl has only the ids of cells that never ran).
 */
export const INPUTS = { dir: 'inputs', matrix: 'inputs/matrix.yaml', policy: 'inputs/policy.yaml', run: 'inputs/run.json' } as const;

/** inputs/run.json: the original names of the files kept under fixed names, and the planned cells. */
interface RunJson {
  matrix: string;
  policy?: string;
  cells: PlannedCell[];
}
export const QUALIFICATION_FILE = 'qualification.json';

/** What a limit's metric may name: `cell`, an event kind, a built-in suite or a user suite's file name. */
export function limitSources(matrixText: string): string[] {
  const suites = (parseDocument(matrixText).toJS() as { suites?: unknown[] } | null)?.suites ?? [];
  const names = suites.map((s) => (typeof s === 'string' ? s : (s as { name?: unknown })?.name)).filter((n): n is string => typeof n === 'string');
  const user = names.filter((n) => n.includes('/')).map((n) => basename(n, extname(n)));
  return [...new Set(['cell', ...knownEventKinds, ...Object.keys(suiteCatalog.builtin), ...user])];
}

export async function saveRunInputs(dir: string, inputs: { matrixPath: string; matrixText: string; policy?: PolicySource; plan: readonly PlannedCell[] }): Promise<void> {
  await mkdir(join(dir, INPUTS.dir), { recursive: true });
  await writeFile(join(dir, INPUTS.matrix), inputs.matrixText);
  const external = inputs.policy && !inputs.policy.inline ? inputs.policy : undefined;
  if (external) await writeFile(join(dir, INPUTS.policy), external.text);
  const run: RunJson = { matrix: basename(inputs.matrixPath), ...(external ? { policy: external.name ?? basename(external.path) } : {}), cells: inputs.plan.map((c) => ({ id: c.id, axes: c.axes })) };
  await writeFile(join(dir, INPUTS.run), `${JSON.stringify(run, null, 1)}\n`);
}

export interface RunInputs {
  matrixText: string;
  plan: PlannedCell[];
  policy?: PolicySource;
}

/** The inputs a run folder (or an extracted bundle) recorded; undefined when it recorded none. */
export async function readRunInputs(dir: string): Promise<RunInputs | undefined> {
  if (!existsSync(join(dir, INPUTS.matrix))) return undefined;
  const matrixText = await readFile(join(dir, INPUTS.matrix), 'utf8');
  let run: RunJson;
  try {
    run = JSON.parse(await readFile(join(dir, INPUTS.run), 'utf8')) as RunJson;
  } catch (cause) {
    throw new ConfigError('RUN_INPUTS_INVALID', `${join(dir, INPUTS.run)} is missing or not JSON`, { cause });
  }
  let policy: PolicySource | undefined;
  if (existsSync(join(dir, INPUTS.policy))) policy = { path: join(dir, INPUTS.policy), text: await readFile(join(dir, INPUTS.policy), 'utf8'), inline: false, name: run.policy ?? 'policy.yaml' };
  else if (parseDocument(matrixText).has('policy')) policy = { path: join(dir, INPUTS.matrix), text: matrixText, inline: true, name: run.matrix };
  return { matrixText, plan: run.cells, ...(policy ? { policy } : {}) };
}

/** The policy of recorded inputs, validated against their plan (a PolicyError names file:line:column). */
export function policyOf(inputs: RunInputs): Policy | undefined {
  return inputs.policy ? parsePolicy(inputs.policy, inputs.plan, limitSources(inputs.matrixText)) : undefined;
}

/** The verdict a run folder's recorded policy gives its results; undefined without a policy. */
export async function qualifyRunFolder(folder: RunFolder): Promise<Qualification | undefined> {
  const inputs = await readRunInputs(folder.dir);
  const policy = inputs && policyOf(inputs);
  return policy ? evaluateFolder(policy, folder, folder.info, inputs.plan) : undefined;
}

/** A policy's verdict on a run folder's results, read a cell at a time; `run` dates it (its trailer). */
export async function evaluateFolder(policy: Policy, folder: RunFolder, run: Pick<RunInfo, 'startedAt' | 'finishedAt'>, plan: readonly PlannedCell[]): Promise<Qualification> {
  const tally = new PolicyTally(policy);
  for await (const cell of folder.cells()) tally.add(cell);
  return tally.verdict(run, plan);
}

export async function writeQualification(dir: string, qualification: Qualification): Promise<void> {
  await writeFile(join(dir, QUALIFICATION_FILE), `${JSON.stringify(qualification, null, 2)}\n`);
}
