import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** sha256 of a file's content, streamed. */
export function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** Every file below `dir`, sorted, so a tree hashes the same on every machine. */
export function listFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...listFiles(path));
    else files.push(path);
  }
  return files.sort();
}

/** One hash over named parts (file hashes, versions, options), order-independent by name. */
export function combineHashes(parts: Record<string, string>): string {
  const hash = createHash('sha256');
  for (const key of Object.keys(parts).sort()) hash.update(`${key}=${parts[key]}\n`);
  return hash.digest('hex');
}

interface MemoEntry {
  stat: string;
  sha256: string;
}

/**
 * File hashes remembered by (size, mtime, ctime, inode), as make and git's index do: a cached
 * image lookup re-reads ~80 MB of inputs otherwise (about 1 s here), with this a few ms.
 * Any change to a file changes its ctime, so a stale hash is never returned.
 */
export class FileHashMemo {
  private entries: Record<string, MemoEntry> = {};
  private dirty = false;

  constructor(private readonly file: string) {
    try {
      this.entries = JSON.parse(readFileSync(file, 'utf8')) as Record<string, MemoEntry>;
    } catch {
      this.entries = {};
    }
  }

  async hash(path: string): Promise<string> {
    const s = statSync(path, { bigint: true });
    const key = `${s.size}:${s.mtimeNs}:${s.ctimeNs}:${s.ino}:${s.dev}`;
    const known = this.entries[path];
    if (known?.stat === key) return known.sha256;
    const sha256 = await hashFile(path);
    this.entries[path] = { stat: key, sha256 };
    this.dirty = true;
    return sha256;
  }

  /** Persist atomically (concurrent writers: the last rename wins, every version is valid). */
  save(): void {
    if (!this.dirty) return;
    mkdirSync(dirname(this.file), { recursive: true });
    const temp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(this.entries));
    renameSync(temp, this.file);
    this.dirty = false;
  }
}
