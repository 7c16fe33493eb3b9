import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { ConfigError } from '../core/errors.js';
import { processTempRoot } from '../core/temp-dir.js';

/** OpenSSH signature namespace: a signature made for bundles cannot be replayed as a git commit or file signature. */
export const SIGNATURE_NAMESPACE = 'bothworlds-certify@bothworlds';

/** Signatures come from the lab's own tools (ssh-keygen, gpg), never from crypto of ours. */
async function withTemp<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(processTempRoot(), 'certify-'));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * `ssh-keygen -Y sign` over `data` with the private key at `keyPath` (or its public half with the
 * private key in ssh-agent). Ed25519 and RSA signatures are deterministic, so a bundle signed twice
 * is byte-identical; ECDSA's are not.
 */
export function sshSign(data: Buffer, keyPath: string): Promise<Buffer> {
  return withTemp(async (dir) => {
    const file = join(dir, 'MANIFEST.sha256');
    await writeFile(file, data);
    const result = await execa('ssh-keygen', ['-Y', 'sign', '-f', keyPath, '-n', SIGNATURE_NAMESPACE, file], { reject: false, timeout: 60_000, stdin: 'ignore' });
    if (result.exitCode !== 0) throw new ConfigError('CERTIFY_SIGN', `ssh-keygen -Y sign with ${keyPath} failed: ${result.stderr.trim() || `exit ${result.exitCode}`}`);
    return readFile(`${file}.sig`);
  });
}

/** Who signed `data` (a principal of the allowed-signers file), or why the signature does not hold. */
export function sshVerify(data: Buffer, signature: Buffer, allowedSigners: string): Promise<{ ok: true; principal: string } | { ok: false; problem: string }> {
  return withTemp(async (dir) => {
    const sig = join(dir, 'MANIFEST.sha256.sig');
    await writeFile(sig, signature);
    const found = await execa('ssh-keygen', ['-Y', 'find-principals', '-s', sig, '-f', allowedSigners], { reject: false, timeout: 30_000, stdin: 'ignore' });
    const principal = found.stdout.split('\n')[0]?.trim();
    if (found.exitCode !== 0 || !principal) {
      return { ok: false as const, problem: `the signature's key is not in ${allowedSigners} (or the signature is malformed): ${(found.stderr || found.stdout).trim() || `exit ${found.exitCode}`}` };
    }
    const verified = await execa('ssh-keygen', ['-Y', 'verify', '-f', allowedSigners, '-I', principal, '-n', SIGNATURE_NAMESPACE, '-s', sig], { input: data, reject: false, timeout: 30_000 });
    if (verified.exitCode !== 0) return { ok: false as const, problem: `the signature by ${principal} does not verify over MANIFEST.sha256: ${(verified.stderr || verified.stdout).trim()}` };
    return { ok: true as const, principal };
  });
}

/** A detached, armored GnuPG signature (optional; it holds a timestamp, so a GnuPG-signed bundle is not byte-reproducible). */
export function gpgSign(data: Buffer, keyId: string): Promise<Buffer> {
  return withTemp(async (dir) => {
    const file = join(dir, 'MANIFEST.sha256');
    await writeFile(file, data);
    const result = await execa('gpg', ['--batch', '--yes', '--local-user', keyId, '--armor', '--detach-sign', '--output', `${file}.asc`, file], { reject: false, timeout: 60_000, stdin: 'ignore' });
    if (result.exitCode !== 0) throw new ConfigError('CERTIFY_SIGN', `gpg --detach-sign with ${keyId} failed: ${result.stderr.trim()}`);
    return readFile(`${file}.asc`);
  });
}

/** Verify against the keys in the user's GnuPG keyring (gpg decides which it trusts). */
export function gpgVerify(data: Buffer, signature: Buffer): Promise<{ ok: true; principal: string } | { ok: false; problem: string }> {
  return withTemp(async (dir) => {
    await writeFile(join(dir, 'm'), data);
    await writeFile(join(dir, 'm.asc'), signature);
    const result = await execa('gpg', ['--batch', '--status-fd', '1', '--verify', join(dir, 'm.asc'), join(dir, 'm')], { reject: false, timeout: 30_000, stdin: 'ignore' });
    const good = /^\[GNUPG:\] GOODSIG \S+ (.*)$/m.exec(result.stdout);
    return result.exitCode === 0 && good ? { ok: true as const, principal: good[1]! } : { ok: false as const, problem: `the GnuPG signature does not verify: ${result.stderr.trim()}` };
  });
}
