import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fingerprint, knownHostsName, parseKnownHosts, verifyHostKey } from './known-hosts.js';

// A real ed25519 public key blob (from ssh-keygen) and another one.
const KEY_A = 'AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C8okWi0dh2l9GYNm';
const KEY_B = 'AAAAC3NzaC1lZDI1NTE5AAAAIBuZ2bV1UgHaV6d7bQTdSCR2cKCByZHGVbz6ysqcqGd0';
const blob = (b64: string): Buffer => Buffer.from(b64, 'base64');

function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

describe('known_hosts', () => {
  it('names non-standard ports the way OpenSSH does', () => {
    expect(knownHostsName('example.org', 22)).toBe('example.org');
    expect(knownHostsName('127.0.0.1', 2222)).toBe('[127.0.0.1]:2222');
  });

  it('accepts the recorded key, plain and hashed, and rejects another with both fingerprints', () => {
    const plain = parseKnownHosts(`# comment\n[127.0.0.1]:2222,other ssh-ed25519 ${KEY_A} c\n`);
    expect(verifyHostKey(plain, '127.0.0.1', 2222, blob(KEY_A)).ok).toBe(true);
    const wrong = verifyHostKey(plain, '127.0.0.1', 2222, blob(KEY_B));
    expect(wrong).toMatchObject({ ok: false, reason: 'mismatch', fingerprint: fingerprint(blob(KEY_B)), knownFingerprints: [fingerprint(blob(KEY_A))] });
    const hashedFile = parseKnownHosts(`${hashed('[127.0.0.1]:2222')} ssh-ed25519 ${KEY_A}\n`);
    expect(verifyHostKey(hashedFile, '127.0.0.1', 2222, blob(KEY_A)).ok).toBe(true);
    expect(verifyHostKey(hashedFile, '127.0.0.1', 22, blob(KEY_A))).toMatchObject({ ok: false, reason: 'unknown' });
  });

  it('honours wildcards, negations and @revoked, and ignores @cert-authority', () => {
    const entries = parseKnownHosts([`*.lab,!bad.lab ssh-ed25519 ${KEY_A}`, `@revoked * ssh-ed25519 ${KEY_B}`, `@cert-authority * ssh-ed25519 ${KEY_B}`].join('\n'));
    expect(verifyHostKey(entries, 'box.lab', 22, blob(KEY_A)).ok).toBe(true);
    expect(verifyHostKey(entries, 'bad.lab', 22, blob(KEY_A))).toMatchObject({ ok: false, reason: 'unknown' });
    expect(verifyHostKey(entries, 'box.lab', 22, blob(KEY_B))).toMatchObject({ ok: false, reason: 'revoked' });
  });

  it('prints fingerprints like ssh-keygen -l', () => {
    expect(fingerprint(blob(KEY_A))).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});
