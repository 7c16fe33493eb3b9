const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Everything taken from a guest, an application or a matrix goes through here. */
export function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** A cell id as a file name (ids are already filename-safe; this is belt and braces). */
export function cellFile(id: string): string {
  return `${id.replace(/[^A-Za-z0-9._-]/g, '_')}.html`;
}
