import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, onlyRunDir, readJson } from '../../test/cli-helpers.js';
import { projectRoot } from '../core/project-root.js';
import { BUNDLE, manifestOf } from './bundle.js';
import { sshSign } from './sign.js';
import { packDeterministic, unpack } from './tar.js';

/** Two local-backend cells (well under a second): one passes, one fails as the policy accepts. */
const MATRIX = `name: gate-test
app:
  command: [/bin/sh, -c, 'if [ "$BW_AXIS_MODE" = broken ]; then echo boom; exit 3; fi; echo ok']
  timeout: 20s
user_axes: [mode]
defaults: {backend: local}
axes:
  mode: [good, broken]
policy:
  accepted_failures:
    - cells: {mode: broken}
      reason: "exited with code 3"
      tracking: https://tracker.example/gate/1
      expires: "2099-01-01"
  limits:
    - "cell.app_ms <= 60s"
`;

const cli = (args: string[]) => execa(process.execPath, [CLI, ...args], { reject: false, all: true, cwd: projectRoot(), env: { CI: 'true', NO_COLOR: '1' } });

let dir: string;
let runDir: string;
let bundle: Buffer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bw-certify-'));
  writeFileSync(join(dir, 'gate.yaml'), MATRIX);
  for (const name of ['lab', 'intruder']) await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${name}@example`, '-f', join(dir, name)]);
  writeFileSync(join(dir, 'allowed_signers'), `lab@example namespaces="bothworlds-certify@bothworlds" ${readFileSync(join(dir, 'lab.pub'), 'utf8')}`);
  const run = await cli(['run', join(dir, 'gate.yaml'), '--reports', join(dir, 'reports'), '--plain', '--certify', join(dir, 'run.tar'), '--key', join(dir, 'lab')]);
  expect(run.exitCode, run.all).toBe(0);
  expect(run.all).toMatch(/QUALIFIED under policy gate\.yaml/);
  runDir = onlyRunDir(join(dir, 'reports'));
  bundle = readFileSync(join(dir, 'run.tar'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Rewrite a bundle's entries; with `resign`, a new manifest signed by `key`, as an insider with the lab's key would. */
async function tampered(change: (entries: Map<string, Buffer>) => void, resign?: 'lab' | 'intruder'): Promise<string> {
  const entries = await unpack(bundle);
  change(entries);
  if (resign) {
    for (const name of [BUNDLE.manifest, BUNDLE.sshSignature]) entries.delete(name);
    const manifest = manifestOf(entries);
    entries.set(BUNDLE.manifest, manifest);
    entries.set(BUNDLE.sshSignature, await sshSign(manifest, join(dir, resign)));
  }
  const path = join(dir, `tampered-${Math.random().toString(36).slice(2)}.tar`);
  writeFileSync(path, await packDeterministic(entries));
  return path;
}

const verify = (path: string) => cli(['verify', path, '--allowed-signers', join(dir, 'allowed_signers')]);

describe('certify and verify a real run', () => {
  it('puts the verdict at the top of every report', () => {
    const json = readJson<Record<string, unknown>>(join(runDir, 'results.json'));
    expect(Object.keys(json)[0]).toBe('qualification');
    expect(json.qualification).toMatchObject({ verdict: 'qualified', reasons: [] });
    expect(readFileSync(join(runDir, 'summary.md'), 'utf8').split('\n')[2]).toMatch(/^\*\*QUALIFIED under policy gate\.yaml/);
    expect(readFileSync(join(runDir, 'index.html'), 'utf8')).toMatch(/<\/header>\n<section class="banner o-passed" id="qualification"><b>QUALIFIED/);
    const junit = readFileSync(join(runDir, 'junit.xml'), 'utf8');
    expect(junit.indexOf('name="release qualification"')).toBeGreaterThan(0);
    expect(junit.indexOf('name="release qualification"')).toBeLessThan(junit.indexOf('local-good'));
  });

  it('gives byte-identical archives for one run folder, which verify accepts', async () => {
    const again = await cli(['certify', runDir, '--out', join(dir, 'again.tar'), '--key', join(dir, 'lab')]);
    expect(again.exitCode, again.all).toBe(0);
    expect(readFileSync(join(dir, 'again.tar')).equals(bundle)).toBe(true);
    const ok = await verify(join(dir, 'run.tar'));
    expect(ok.exitCode, ok.all).toBe(0);
    expect(ok.stdout).toMatch(/^OK: \d+ files match the manifest, signed by lab@example; the verdict follows/);
    // A third party needs no bothworlds for the hashes: the manifest is sha256sum's format.
    const names = [...(await unpack(bundle)).keys()];
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(['inputs/matrix.yaml', 'inputs/run.json', 'environment.json', 'provenance.json', 'qualification.json', 'run/results.jsonl', 'run/junit.xml', 'run/index.html', 'run/summary.md', 'run/results.json']));
  });

  it('catches a changed byte', async () => {
    const path = await tampered((e) => e.set('run/results.jsonl', Buffer.from(e.get('run/results.jsonl')!.toString().replace('"outcome":"failed"', '"outcome":"passed"'))));
    const result = await verify(path);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/^MISMATCH run\/results\.jsonl changed: sha256 [0-9a-f]{64}, the manifest says [0-9a-f]{64}$/m);
  });

  it('catches a missing file and an extra one', async () => {
    const result = await verify(await tampered((e) => (e.delete('run/junit.xml'), e.set('run/extra.txt', Buffer.from('x')))));
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/^MISMATCH run\/junit\.xml is listed in MANIFEST\.sha256 but missing from the bundle$/m);
    expect(result.stdout).toMatch(/^MISMATCH run\/extra\.txt is in the bundle but not in MANIFEST\.sha256$/m);
  });

  it('catches a verdict that does not follow, even re-signed with the lab key', async () => {
    // The failed cell now "passes" in results.jsonl, but the stated verdict still counts it as accepted.
    const path = await tampered((e) => e.set('run/results.jsonl', Buffer.from(e.get('run/results.jsonl')!.toString().replace('"outcome":"failed"', '"outcome":"passed"'))), 'lab');
    const result = await verify(path);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/^MISMATCH qualification\.json says "qualified", but results\.jsonl under the policy gives "not qualified"$/m);
    expect(result.stdout).toMatch(/^MISMATCH qualification\.json omits a reason that follows from results\.jsonl: local-broken-\w+ passed, but accepted failure #1/m);
  });

  it('catches a bad signature: another key, and a flipped byte in the signature', async () => {
    const other = await verify(await tampered(() => undefined, 'intruder'));
    expect(other.exitCode).toBe(1);
    expect(other.stdout).toMatch(/^MISMATCH the signature's key is not in .*allowed_signers/m);
    const flipped = await verify(
      await tampered((e) => {
        const sig = e.get(BUNDLE.sshSignature)!.toString();
        const body = sig.split('\n');
        body[3] = body[3]!.replace(/^(.)(.)/, (_m, a: string, b: string) => `${b}${a}`);
        e.set(BUNDLE.sshSignature, Buffer.from(body.join('\n')));
      }),
    );
    expect(flipped.exitCode).toBe(1);
    expect(flipped.stdout).toMatch(/^MISMATCH the signature/m);
  });

  it('judges the same results by a tightened policy: not qualified, exit 5, with the reason', async () => {
    writeFileSync(join(dir, 'tight.yaml'), 'accepted_failures:\n  - {cells: {mode: broken}, reason: "exited with code 3", tracking: "https://tracker.example/gate/1", expires: "2099-01-01"}\nlimits: ["cell.app_ms <= 0.001ms"]\n');
    const run = await cli(['run', join(dir, 'gate.yaml'), '--policy', join(dir, 'tight.yaml'), '--reports', join(dir, 'tight-reports'), '--plain']);
    expect(run.exitCode, run.all).toBe(5);
    expect(run.all).toMatch(/NOT QUALIFIED under policy tight\.yaml/);
    expect(run.all).toMatch(/limit "cell\.app_ms <= 0\.001ms" broken: cell\.app_ms max of 2 sample\(s\) = [\d.]+ ms/);
  });

  it('refuses a policy naming cells the matrix cannot produce before anything runs (exit 2, file:line:column)', async () => {
    writeFileSync(join(dir, 'bad.yaml'), 'required:\n  - {mode: borken}\n');
    const run = await cli(['run', join(dir, 'gate.yaml'), '--policy', join(dir, 'bad.yaml'), '--reports', join(dir, 'bad-reports')]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(`${join(dir, 'bad.yaml')}:2:12: no cell of the matrix has mode "borken" (did you mean "broken"?)`);
  });
});
