import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import type { Qualification } from '../model/qualification.js';
import { evaluatePolicy } from '../policy/evaluate.js';
import { INPUTS, policyOf } from '../policy/run-folder.js';
import { readResults } from '../report/results-store.js';
import { bundleInputs } from './inputs.js';
import { gpgSign, SIGNATURE_NAMESPACE, sshSign } from './sign.js';
import { byBytes, packDeterministic } from './tar.js';

/** Names inside a bundle (docs/certification.md describes each). */
export const BUNDLE = {
  manifest: 'MANIFEST.sha256',
  sshSignature: 'MANIFEST.sha256.sig',
  gpgSignature: 'MANIFEST.sha256.asc',
  info: 'bundle.json',
  environment: 'environment.json',
  provenance: 'provenance.json',
  qualification: 'qualification.json',
  run: 'run/',
} as const;

export interface CertifyOptions {
  /** An OpenSSH private key (or its public key, with the private one in ssh-agent). */
  sshKey?: string;
  /** A GnuPG key id: an armored detached signature beside (or instead of) the SSH one. */
  gpgKey?: string;
  /** Judge a run that recorded no policy by this policy file. */
  policyFile?: string;
}

export interface Bundle {
  bytes: Buffer;
  files: number;
  qualification?: Qualification;
}

export const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** `sha256sum -c` reads this: "<hex>  <name>" per line, in byte order of the names. */
export function manifestOf(entries: ReadonlyMap<string, Buffer>): Buffer {
  return Buffer.from([...entries.keys()].sort(byBytes).map((name) => `${sha256(entries.get(name)!)}  ${name}\n`).join(''));
}

/**
 * One archive with everything a third party needs to check a run: its files, its inputs, where it
 * ran, the hashes of what it booted, the verdict, a manifest and the manifest's signature. Every
 * byte derives from the run folder (and the key), so certifying a folder twice gives one archive.
 */
export async function buildBundle(runDir: string, options: CertifyOptions = {}): Promise<Bundle> {
  const record = await readResults(runDir);
  const { inputs, provenance } = await bundleInputs(runDir, record, options);
  const policy = policyOf(inputs);
  const qualification = policy ? evaluatePolicy(policy, record, inputs.plan) : undefined;
  const entries = new Map<string, Buffer>();
  for (const path of await filesUnder(runDir)) {
    const name = relative(runDir, path).split(sep).join('/');
    if (name === INPUTS.dir || name.startsWith(`${INPUTS.dir}/`)) continue;
    entries.set(`${BUNDLE.run}${name}`, await readFile(path));
  }
  entries.set(INPUTS.matrix, Buffer.from(inputs.matrixText));
  if (inputs.policy && !inputs.policy.inline) entries.set(INPUTS.policy, Buffer.from(inputs.policy.text));
  const matrixFile = basename(record.matrix.path);
  const policyFile = inputs.policy && !inputs.policy.inline ? (inputs.policy.name ?? basename(inputs.policy.path)) : undefined;
  entries.set(INPUTS.run, json({ matrix: matrixFile, ...(policyFile ? { policy: policyFile } : {}), cells: inputs.plan }, 1));
  entries.set(BUNDLE.environment, json({ ...record.environment, harness: provenance.harness }));
  entries.set(BUNDLE.provenance, json(provenance));
  if (qualification) entries.set(BUNDLE.qualification, json(qualification));
  entries.set(
    BUNDLE.info,
    json({
      schema: 'bothworlds/bundle@1',
      runId: record.runId,
      matrix: { name: record.matrix.name, file: matrixFile, sha256: record.matrix.hash },
      verdict: qualification?.verdict ?? 'no policy',
      signatures: { ...(options.sshKey ? { ssh: { file: BUNDLE.sshSignature, namespace: SIGNATURE_NAMESPACE } } : {}), ...(options.gpgKey ? { gpg: { file: BUNDLE.gpgSignature } } : {}) },
    }),
  );
  const manifest = manifestOf(entries);
  const files = entries.size;
  entries.set(BUNDLE.manifest, manifest);
  if (options.sshKey) entries.set(BUNDLE.sshSignature, await sshSign(manifest, options.sshKey));
  if (options.gpgKey) entries.set(BUNDLE.gpgSignature, await gpgSign(manifest, options.gpgKey));
  return { bytes: await packDeterministic(entries), files, ...(qualification ? { qualification } : {}) };
}

function json(value: unknown, indent = 2): Buffer {
  return Buffer.from(`${JSON.stringify(value, null, indent)}\n`);
}

/** Every regular file under `dir` (links are not followed: a run folder has none, a bundle must not reach outside it). */
async function filesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await filesUnder(path)));
    else if (entry.isFile()) found.push(path);
  }
  return found;
}
