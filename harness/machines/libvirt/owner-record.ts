import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { InfrastructureError } from '../../core/errors.js';
import { ownerState } from '../../core/owner-lock.js';
import { currentUid, isPrivateDir } from '../../core/private-dir.js';
import { ownerToken } from '../../core/temp-dir.js';

/**
 * Which libvirt daemons a harness defined domains on, written before each define. A harness killed
 * with SIGKILL leaves its domains running on remote daemons the next start could not know of; this
 * record tells it. Durable (XDG state, not the temp root: a remote domain outlives a reboot of the
 * harness's machine) and private (0700 dir, 0600 files: URIs may name key files). One file per
 * harness process, named after its temp root; removed once every domain it recorded was removed,
 * else by the start that swept its daemons.
 */
export interface OwnerRecord {
  file: string;
  token: string;
  uris: string[];
}

let mine: { file: string; uris: string[]; live: number } | undefined;

/** $BOTHWORLDS_STATE_DIR, else $XDG_STATE_HOME/bothworlds, else ~/.local/state/bothworlds. */
export function recordDir(): string {
  const base = process.env.BOTHWORLDS_STATE_DIR ?? join(process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'bothworlds');
  return join(base, 'libvirt-owners');
}

/**
 * Note that a domain is about to be defined on `uri` (synchronously, before the define). Returns
 * what to call once that domain is known to be gone; with none left, the record goes at once (a
 * test runner may kill its workers without running exit hooks).
 */
export function recordDomain(uri: string): () => void {
  mine ??= { file: join(privateRecordDir(), `${basename(dirname(ownerToken()))}.json`), uris: [], live: 0 };
  const record = mine;
  if (!record.uris.includes(uri)) {
    record.uris.push(uri);
    writeRecord(record.file, { token: ownerToken(), uris: record.uris });
  }
  record.live++;
  let gone = false;
  return () => {
    if (gone) return;
    gone = true;
    if (--record.live > 0) return;
    record.uris = [];
    rmSync(record.file, { force: true });
  };
}

/** Records whose harness is dead (its lock refuses, or its temp root is gone). */
export async function deadOwnerRecords(): Promise<OwnerRecord[]> {
  const dir = recordDir();
  let entries: string[];
  try {
    if (!isPrivateDir(lstatSync(dir))) return [];
    entries = readdirSync(dir).filter((name) => name.endsWith('.json'));
  } catch {
    return [];
  }
  const records: OwnerRecord[] = [];
  for (const entry of entries) {
    const file = join(dir, entry);
    try {
      const stats = lstatSync(file);
      if (!stats.isFile() || stats.uid !== currentUid()) continue;
      const { token, uris } = JSON.parse(readFileSync(file, 'utf8')) as { token?: unknown; uris?: unknown };
      if (typeof token !== 'string' || !Array.isArray(uris) || !uris.every((u) => typeof u === 'string')) continue;
      if ((await ownerState(token)) === 'alive') continue;
      records.push({ file, token, uris: uris as string[] });
    } catch {
      // Half-written (a rename makes that unlikely) or removed meanwhile by another start: next time.
    }
  }
  return records;
}

/** After a sweep: the daemons that did not answer stay recorded for the next start; none, the record goes. */
export function settleRecord(record: OwnerRecord, unanswered: ReadonlySet<string>): void {
  const left = record.uris.filter((u) => unanswered.has(u));
  if (left.length === 0) rmSync(record.file, { force: true });
  else writeRecord(record.file, { token: record.token, uris: left });
}

function privateRecordDir(): string {
  const dir = recordDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!isPrivateDir(lstatSync(dir))) {
    throw new InfrastructureError('STATE_DIR_UNSAFE', `${dir} must be a directory of uid ${currentUid()} only it can read (mode 700): it records which libvirt daemons hold this harness's domains`, { details: { dir } });
  }
  return dir;
}

function writeRecord(file: string, content: { token: string; uris: string[] }): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(content)}\n`, { mode: 0o600 });
  renameSync(temporary, file);
}
