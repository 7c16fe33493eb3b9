import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { ownerAlive, ownerToken } from '../../core/temp-dir.js';
import { currentUid } from '../../core/private-dir.js';
import type { ResourceScope } from '../../core/scope.js';
import { deadOwnerRecords, recordDomain, settleRecord } from './owner-record.js';
import { defaultMigrationUri, defaultUri, virsh } from './virsh.js';

const MAX_NAME = 60;
const PREFIX = 'bw-';
export const OWNER_NS = 'https://bothworlds.dev/xmlns/owner/1';

/**
 * The domain name of a cell: `bw-<cell id>` when it fits in 60 characters; longer, the start of it
 * and a hash of the whole, so two cells that differ only past the cut never share a domain.
 */
export function domainName(cell: string): string {
  const full = `${PREFIX}${cell}`.replace(/[^A-Za-z0-9_.-]/g, '-');
  if (full.length <= MAX_NAME && full === `${PREFIX}${cell}`) return full;
  const hash = createHash('sha256').update(cell).digest('hex').slice(0, 12);
  return `${full.slice(0, MAX_NAME - hash.length - 1)}-${hash}`;
}

/**
 * This harness's machine: an owner token is a path there, meaningless on another machine whose
 * harness (same uid, same lab daemon) must not mistake our live domains for a dead owner's.
 */
export function harnessHost(): string {
  let machineId = '';
  try {
    machineId = readFileSync('/etc/machine-id', 'utf8').trim();
  } catch {
    // Containers often have none: the hostname tells them apart.
  }
  return createHash('sha256').update(`${machineId}\n${hostname()}`).digest('hex').slice(0, 16);
}

/** The domain XML with <metadata> naming the harness that owns it (its lock, machine and uid). */
export function withOwnerMetadata(xml: string): string {
  const owner = `<bw:owner xmlns:bw="${OWNER_NS}" token="${escapeAttr(ownerToken())}" host="${harnessHost()}" uid="${currentUid()}"/>`;
  const index = xml.lastIndexOf('</domain>');
  if (index < 0) throw new Error('domain XML without </domain>');
  return `${xml.slice(0, index)}  <metadata>${owner}</metadata>\n${xml.slice(index)}`;
}

/** The daemons every start looks at: the local ones (defaultUri, defaultMigrationUri). */
export function localUris(): string[] {
  return [defaultUri(), defaultMigrationUri()].filter((u): u is string => Boolean(u));
}

/**
 * Destroy and undefine `bw-*` domains whose owning harness is gone (killed with SIGKILL: nothing
 * else removed them), on the local daemons and on every daemon a dead harness recorded before it
 * defined a domain there (owner-record.ts); with `uris`, on those only. Only domains with this
 * uid's and this machine's owner metadata are touched; one without it may be someone else's.
 * A daemon that does not answer keeps its record for the next start. Returns "name on uri".
 */
export async function sweepOrphanDomains(uris?: string[]): Promise<string[]> {
  const records = uris ? [] : await deadOwnerRecords();
  const local = localUris();
  const targets = [...new Set([...(uris ?? local), ...records.flatMap((r) => r.uris)])];
  const unanswered = new Set<string>();
  const removed = await Promise.all(
    targets.map((uri) =>
      sweepDaemon(uri, local.includes(uri)).catch(() => {
        unanswered.add(uri);
        return [];
      }),
    ),
  );
  for (const record of records) settleRecord(record, unanswered);
  return removed.flat();
}

async function sweepDaemon(uri: string, local: boolean): Promise<string[]> {
  const removed: string[] = [];
  const names = (await virsh(uri, ['list', '--all', '--name'], { timeoutMs: 20_000 })).split('\n').map((n) => n.trim()).filter((n) => n.startsWith(PREFIX));
  for (const name of names) {
    const metadata = await virsh(uri, ['metadata', name, OWNER_NS], { timeoutMs: 20_000 }).catch(() => '');
    const token = /token="([^"]*)"/.exec(metadata)?.[1];
    const uid = /uid="(\d+)"/.exec(metadata)?.[1];
    // Metadata from before the machine was recorded counts as this machine's on a local daemon only.
    const host = /host="([^"]*)"/.exec(metadata)?.[1];
    if (!token || Number(uid) !== currentUid() || (host ? host !== harnessHost() : !local)) continue;
    if (await ownerAlive(unescapeAttr(token))) continue;
    if (await removeDomain(uri, name)) removed.push(`${name} on ${uri}`);
  }
  return removed;
}

/** Destroy (if running) and undefine (if persistent); whether the domain is gone from `uri`. */
export async function removeDomain(uri: string, domain: string): Promise<boolean> {
  await virsh(uri, ['destroy', domain], { timeoutMs: 30_000 }).catch(() => undefined);
  const undefine = (args: string[]) => virsh(uri, ['undefine', domain, ...args], { timeoutMs: 30_000 });
  try {
    await undefine(['--nvram']).catch(() => undefine([]));
    return true;
  } catch (error) {
    // A transient domain (arrived by migration) is gone once destroyed.
    return /failed to get domain|domain not found/i.test((error as Error).message);
  }
}

/** Recorded (durably, before the define) and torn down with the scope; the record forgets it once gone. */
export function registerDomain(scope: ResourceScope, uri: string, domain: string): void {
  const gone = recordDomain(uri);
  scope.register({ name: `domain ${domain} on ${uri}`, kind: 'domain', dispose: async () => void ((await removeDomain(uri, domain)) && gone()) });
}

function escapeAttr(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

function unescapeAttr(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
}
