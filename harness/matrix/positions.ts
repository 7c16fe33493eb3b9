import { isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

export type DocPath = Array<string | number>;

export function formatPath(path: DocPath): string {
  return path.reduce<string>((text, key) => (typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${key}` : key), '');
}

/**
 * The 1-based line and column of the YAML node at `path`; with `key`, of the key itself. Falls
 * back to the deepest existing ancestor, so an error always points somewhere useful.
 */
export function positionOf(doc: Document, counter: LineCounter, path: DocPath, options: { key?: boolean } = {}): { line: number; column: number } {
  let node: unknown = doc.contents;
  let offset = (doc.contents as Node | null)?.range?.[0] ?? 0;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]!;
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === segment);
      if (!pair) break;
      const last = i === path.length - 1;
      const keyNode = pair.key as Node | undefined;
      if (last && options.key && keyNode?.range) {
        offset = keyNode.range[0];
        break;
      }
      node = pair.value;
      const range = (pair.value as Node | null)?.range ?? keyNode?.range;
      if (range) offset = range[0];
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as Node | undefined;
      if (!item) break;
      node = item;
      if (item.range) offset = item.range[0];
    } else break;
  }
  const pos = counter.linePos(offset);
  return { line: pos.line, column: pos.col };
}
