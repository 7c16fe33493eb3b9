import { basename } from 'node:path';
import { ConfigError } from '../core/errors.js';
import type { Cell } from '../model/cell.js';
import type { GuestTools } from '../images/tools.js';

/** Host paths of a cell's application files, with `@tools/<name>` resolved to a built-in tool. */
export function resolveAppFiles(cell: Cell, tools: GuestTools): string[] {
  const byName = new Map(Object.values(tools).map((path) => [basename(path), path]));
  return cell.app.files.map((file) => {
    if (!file.startsWith('@tools/')) return file;
    const name = file.slice('@tools/'.length);
    const path = byName.get(name);
    if (!path) throw new ConfigError('APP_TOOL_UNKNOWN', `${file} names no built-in tool; tools: ${[...byName.keys()].map((n) => `@tools/${n}`).join(', ')}`);
    return path;
  });
}
