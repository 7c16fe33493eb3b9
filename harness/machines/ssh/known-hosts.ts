import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface KnownHostEntry {
  marker?: '@revoked' | '@cert-authority';
  /** Host patterns (plain) or one hashed `|1|salt|hash` entry. */
  hosts: string[];
  keyType: string;
  /** The key blob as OpenSSH stores it (base64 of the wire format). */
  keyBase64: string;
}

export const DEFAULT_KNOWN_HOSTS = join(homedir(), '.ssh', 'known_hosts');

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    const marker = fields[0] === '@revoked' || fields[0] === '@cert-authority' ? (fields.shift() as KnownHostEntry['marker']) : undefined;
    const [hosts, keyType, keyBase64] = fields;
    if (!hosts || !keyType || !keyBase64) continue;
    entries.push({ ...(marker ? { marker } : {}), hosts: hosts.split(','), keyType, keyBase64 });
  }
  return entries;
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

/** OpenSSH's `SHA256:...` fingerprint of a key blob (what `ssh-keygen -lf` prints). */
export function fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

function patternMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  const glob = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return glob.test(name);
}

function entryMatches(entry: KnownHostEntry, name: string): boolean {
  let matched = false;
  for (const pattern of entry.hosts) {
    if (pattern.startsWith('!')) {
      if (patternMatches(pattern.slice(1), name)) return false;
    } else if (patternMatches(pattern, name)) matched = true;
  }
  return matched;
}

export type HostKeyVerdict =
  | { ok: true; fingerprint: string }
  | { ok: false; fingerprint: string; reason: 'unknown' | 'mismatch' | 'revoked'; knownFingerprints: string[] };

/** Decide whether `keyBlob` is the key known_hosts records for address:port (hashed entries included). */
export function verifyHostKey(entries: KnownHostEntry[], address: string, port: number, keyBlob: Buffer): HostKeyVerdict {
  const name = knownHostsName(address, port);
  const seen = fingerprint(keyBlob);
  const blob = keyBlob.toString('base64');
  const mine = entries.filter((e) => e.marker !== '@cert-authority' && entryMatches(e, name));
  if (mine.some((e) => e.marker === '@revoked' && e.keyBase64 === blob)) return { ok: false, fingerprint: seen, reason: 'revoked', knownFingerprints: [] };
  const known = mine.filter((e) => e.marker === undefined);
  if (known.some((e) => e.keyBase64 === blob)) return { ok: true, fingerprint: seen };
  return {
    ok: false,
    fingerprint: seen,
    reason: known.length === 0 ? 'unknown' : 'mismatch',
    knownFingerprints: known.map((e) => fingerprint(Buffer.from(e.keyBase64, 'base64'))),
  };
}

export function readKnownHosts(path: string): KnownHostEntry[] {
  try {
    return parseKnownHosts(readFileSync(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
