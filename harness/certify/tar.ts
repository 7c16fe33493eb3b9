import { pack, extract } from 'tar-stream';
import { Readable } from 'node:stream';
import { ConfigError } from '../core/errors.js';

/**
 * A tar archive that depends only on its entries: names sorted, every header field fixed (mtime 0,
 * uid/gid 0, no owner names, mode 0644), so the same files give the same bytes on any machine.
 */
export async function packDeterministic(entries: ReadonlyMap<string, Buffer>): Promise<Buffer> {
  const archive = pack();
  const chunks: Buffer[] = [];
  archive.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    archive.on('end', resolve);
    archive.on('error', reject);
  });
  for (const name of [...entries.keys()].sort(byBytes)) {
    const body = entries.get(name)!;
    await new Promise<void>((resolve, reject) =>
      archive.entry({ name, size: body.length, mode: 0o644, mtime: new Date(0), uid: 0, gid: 0, uname: '', gname: '', type: 'file' }, body, (error) => (error ? reject(error) : resolve())),
    );
  }
  archive.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** Entries of an archive by name. Anything but a plain file, a path leaving the archive or a name twice is refused: a bundle never holds one. */
export async function unpack(bytes: Buffer): Promise<Map<string, Buffer>> {
  const entries = new Map<string, Buffer>();
  const reader = extract();
  const done = new Promise<void>((resolve, reject) => {
    reader.on('entry', (header, stream, next) => {
      const parts: Buffer[] = [];
      stream.on('data', (chunk: unknown) => parts.push(chunk as Buffer));
      stream.on('error', reject);
      stream.on('end', () => {
        if (header.type !== 'file') return reject(new ConfigError('BUNDLE_INVALID', `the bundle holds ${header.name}, a ${header.type ?? 'special'} entry: bundles hold plain files only`));
        if (header.name.startsWith('/') || header.name.split('/').includes('..')) return reject(new ConfigError('BUNDLE_INVALID', `the bundle holds ${header.name}, a path outside the bundle`));
        if (entries.has(header.name)) return reject(new ConfigError('BUNDLE_INVALID', `the bundle holds ${header.name} twice`));
        entries.set(header.name, Buffer.concat(parts));
        next();
      });
    });
    reader.on('finish', resolve);
    reader.on('error', (error: Error) => reject(new ConfigError('BUNDLE_INVALID', `not a tar archive: ${error.message}`, { cause: error })));
  });
  Readable.from([bytes]).pipe(reader);
  await done;
  return entries;
}

/** Byte order, not locale order: the same on every machine. */
export function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
