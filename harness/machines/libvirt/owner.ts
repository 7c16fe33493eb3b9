import { createHash } from 'node:crypto';
import { ownerAlive, ownerToken } from '../../core/temp-dir.js';
import { currentUid } from '../../core/private-dir.js';
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

/** The domain XML with <metadata> naming the harness that owns it (its lock) and its uid. */
export function withOwnerMetadata(xml: string): string {
  const owner = `<bw:owner xmlns:bw="${OWNER_NS}" token="${escapeAttr(ownerToken())}" uid="${currentUid()}"/>`;
  const index = xml.lastIndexOf('</domain>');
  if (index < 0) throw new Error('domain XML without </domain>');
  return `${xml.slice(0, index)}  <metadata>${owner}</metadata>\n${xml.slice(index)}`;
}

/**
 * Destroy and undefine `bw-*` domains whose owning harness is gone (killed with SIGKILL: nothing
 * else removed them). Only domains that carry this uid's owner metadata are touched; one without
 * it may be someone else's. Returns "name on uri" for each removed.
 */
export async function sweepOrphanDomains(uris: string[] = [defaultUri(), defaultMigrationUri()].filter((u): u is string => Boolean(u))): Promise<string[]> {
  const removed: string[] = [];
  for (const uri of uris) {
    const names = (await virsh(uri, ['list', '--all', '--name']).catch(() => '')).split('\n').map((n) => n.trim()).filter((n) => n.startsWith(PREFIX));
    for (const name of names) {
      const metadata = await virsh(uri, ['metadata', name, OWNER_NS]).catch(() => '');
      const token = /token="([^"]*)"/.exec(metadata)?.[1];
      const uid = /uid="(\d+)"/.exec(metadata)?.[1];
      if (!token || Number(uid) !== currentUid() || (await ownerAlive(unescapeAttr(token)))) continue;
      await virsh(uri, ['destroy', name]).catch(() => undefined);
      await virsh(uri, ['undefine', name, '--nvram']).catch(() => virsh(uri, ['undefine', name]).catch(() => undefined));
      removed.push(`${name} on ${uri}`);
    }
  }
  return removed;
}

function escapeAttr(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

function unescapeAttr(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
}
