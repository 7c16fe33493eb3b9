import { createHash } from 'node:crypto';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Everything taken from a guest, an application or a matrix goes through here. */
export function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/**
 * A cell id as a file name. Matrix ids are already filename-safe; an id that is not gets its
 * unsafe characters replaced and a short hash of the original, so two ids never share a page.
 */
export function cellFile(id: string): string {
  return `${cellFolder(id)}.html`;
}

/** The cell's own folder beside its page (artifacts and other evidence): the page's name without `.html`. */
export function cellFolder(id: string): string {
  const safe = id.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  return safe === id ? id : `${safe}-${createHash('sha256').update(id).digest('hex').slice(0, 8)}`;
}
