import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { describeError } from '../core/errors.js';
import { processTempRoot } from '../core/temp-dir.js';
import type { Qualification } from '../model/qualification.js';
import { evaluatePolicy } from '../policy/evaluate.js';
import { INPUTS, QUALIFICATION_FILE, policyOf, readRunInputs } from '../policy/run-folder.js';
import { readResults } from '../report/results-store.js';
import { BUNDLE, sha256 } from './bundle.js';
import { gpgVerify, sshVerify } from './sign.js';
import { unpack } from './tar.js';

export interface VerifyOptions {
  /** An OpenSSH allowed-signers file: who may sign bundles. */
  allowedSigners?: string;
  /** Accept a GnuPG signature that the user's keyring verifies. */
  gpg?: boolean;
}

export interface Verification {
  /** Each thing that does not match, for a person; empty when the bundle holds. */
  problems: string[];
  signer?: string;
  /** The verdict re-derived from results.jsonl and the policy. */
  qualification?: Qualification;
  files: number;
}

/**
 * Check a bundle as a third party would: the signature over the manifest, every file against the
 * manifest (none missing, none extra), the recorded inputs against results.jsonl, and the verdict
 * re-derived from results.jsonl and the policy against every place the bundle states it.
 */
export async function verifyBundle(bytes: Buffer, options: VerifyOptions): Promise<Verification> {
  const problems: string[] = [];
  let entries: Map<string, Buffer>;
  try {
    entries = await unpack(bytes);
  } catch (error) {
    return { problems: [describeError(error)], files: 0 };
  }
  const manifest = entries.get(BUNDLE.manifest);
  if (!manifest) return { problems: [`${BUNDLE.manifest} is missing: nothing says what the bundle holds`], files: entries.size };
  const signer = await checkSignature(manifest, entries, options, problems);
  const listed = new Map<string, string>();
  manifest.toString('utf8').split('\n').forEach((line, i) => {
    if (!line) return;
    const match = /^([0-9a-f]{64}) {2}(.+)$/.exec(line);
    if (!match) problems.push(`${BUNDLE.manifest}:${i + 1} is not "<sha256>  <name>"`);
    else listed.set(match[2]!, match[1]!);
  });
  for (const [name, expected] of listed) {
    const body = entries.get(name);
    if (!body) problems.push(`${name} is listed in ${BUNDLE.manifest} but missing from the bundle`);
    else if (sha256(body) !== expected) problems.push(`${name} changed: sha256 ${sha256(body)}, the manifest says ${expected}`);
  }
  const signatures = new Set<string>([BUNDLE.manifest, BUNDLE.sshSignature, BUNDLE.gpgSignature]);
  for (const name of entries.keys()) if (!listed.has(name) && !signatures.has(name)) problems.push(`${name} is in the bundle but not in ${BUNDLE.manifest}`);
  const qualification = await rederive(entries, problems);
  return { problems, ...(signer ? { signer } : {}), ...(qualification ? { qualification } : {}), files: listed.size };
}

async function checkSignature(manifest: Buffer, entries: Map<string, Buffer>, options: VerifyOptions, problems: string[]): Promise<string | undefined> {
  const ssh = entries.get(BUNDLE.sshSignature);
  const gpg = entries.get(BUNDLE.gpgSignature);
  if (options.allowedSigners && ssh) {
    const result = await sshVerify(manifest, ssh, options.allowedSigners);
    if (result.ok) return result.principal;
    problems.push(result.problem);
    return undefined;
  }
  if (options.gpg && gpg) {
    const result = await gpgVerify(manifest, gpg);
    if (result.ok) return result.principal;
    problems.push(result.problem);
    return undefined;
  }
  if (options.allowedSigners) problems.push(`the bundle has no ${BUNDLE.sshSignature}: it is not signed with an SSH key`);
  else if (options.gpg) problems.push(`the bundle has no ${BUNDLE.gpgSignature}: it is not signed with GnuPG`);
  else problems.push('no signature was checked: give --allowed-signers FILE (or --gpg)');
  return undefined;
}

/** Rebuild the run folder from the bundle, read it as the harness does and judge it again. */
async function rederive(entries: Map<string, Buffer>, problems: string[]): Promise<Qualification | undefined> {
  const root = await mkdtemp(join(processTempRoot(), 'verify-'));
  try {
    const runDir = join(root, 'run');
    await mkdir(runDir, { recursive: true });
    for (const [name, body] of entries) {
      const target = name.startsWith(BUNDLE.run) ? join(runDir, name.slice(BUNDLE.run.length)) : name.startsWith(`${INPUTS.dir}/`) ? join(runDir, name) : undefined;
      if (!target) continue;
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, body);
    }
    const record = await readResults(runDir);
    const inputs = await readRunInputs(runDir);
    if (!inputs) {
      problems.push(`${INPUTS.matrix} is missing: the verdict cannot be re-derived`);
      return undefined;
    }
    if (sha256(inputs.matrixText) !== record.matrix.hash) problems.push(`${INPUTS.matrix} is not the matrix results.jsonl ran (sha256 ${sha256(inputs.matrixText).slice(0, 12)}…, the run's ${record.matrix.hash.slice(0, 12)}…)`);
    const planned = inputs.plan.map((c) => c.id);
    if (!isDeepStrictEqual([...planned].sort(), [...record.cellIds].sort())) problems.push(`${INPUTS.run} plans other cells than results.jsonl (${planned.length} vs ${record.cellIds.length})`);
    const axes = new Map(inputs.plan.map((c) => [c.id, c.axes]));
    for (const cell of record.cells) if (!isDeepStrictEqual(axes.get(cell.id), cell.axes)) problems.push(`results.jsonl's cell ${cell.id} has other axis values than ${INPUTS.run} plans`);
    const environment = parseJson(entries.get(BUNDLE.environment), BUNDLE.environment, problems) as Record<string, unknown> | undefined;
    if (environment) {
      const { harness: _harness, ...rest } = environment;
      if (!isDeepStrictEqual(rest, record.environment)) problems.push(`${BUNDLE.environment} does not match the environment results.jsonl recorded`);
    }
    const policy = policyOf(inputs);
    const derived = policy ? evaluatePolicy(policy, record, inputs.plan) : undefined;
    compareVerdict(derived, parseJson(entries.get(BUNDLE.qualification), BUNDLE.qualification, problems), BUNDLE.qualification, problems, true);
    compareVerdict(derived, parseJson(entries.get(`${BUNDLE.run}${QUALIFICATION_FILE}`), `${BUNDLE.run}${QUALIFICATION_FILE}`, problems), `${BUNDLE.run}${QUALIFICATION_FILE}`, problems);
    const report = parseJson(entries.get(`${BUNDLE.run}results.json`), `${BUNDLE.run}results.json`, problems) as { qualification?: unknown } | undefined;
    if (report?.qualification !== undefined) compareVerdict(derived, report.qualification, `${BUNDLE.run}results.json`, problems);
    const info = parseJson(entries.get(BUNDLE.info), BUNDLE.info, problems) as { verdict?: string } | undefined;
    if (info && info.verdict !== (derived?.verdict ?? 'no policy')) problems.push(`${BUNDLE.info} says "${info.verdict}", but results.jsonl under the policy gives "${derived?.verdict ?? 'no policy'}"`);
    return derived;
  } catch (error) {
    problems.push(`the run cannot be re-read: ${describeError(error)}`);
    return undefined;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

function compareVerdict(derived: Qualification | undefined, stated: unknown, where: string, problems: string[], required = false): void {
  if (stated === undefined) {
    if (required && derived) problems.push(`${where} is missing, but the run has a policy (it gives "${derived.verdict}")`);
    return;
  }
  if (!derived) return void problems.push(`${where} states a verdict, but the bundle holds no policy to derive one from`);
  const s = stated as Partial<Qualification>;
  if (s.verdict !== derived.verdict) problems.push(`${where} says "${s.verdict}", but results.jsonl under the policy gives "${derived.verdict}"`);
  const said = new Set((s.reasons ?? []).map((r) => r.message));
  const follows = new Set(derived.reasons.map((r) => r.message));
  for (const reason of follows) if (!said.has(reason)) problems.push(`${where} omits a reason that follows from results.jsonl: ${reason}`);
  for (const reason of said) if (!follows.has(reason)) problems.push(`${where} gives a reason that does not follow from results.jsonl: ${reason}`);
  if (s.verdict === derived.verdict && said.size === follows.size && !isDeepStrictEqual(stated, derived)) problems.push(`${where} differs from the verdict re-derived from results.jsonl (notes, policy hash or date)`);
}

function parseJson(body: Buffer | undefined, name: string, problems: string[]): unknown {
  if (!body) return undefined;
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    problems.push(`${name} is not JSON`);
    return undefined;
  }
}
