import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { DISTRO_IMAGES } from '../images/debian/names.js';
import type { AxisValue } from '../model/cell.js';
import type { ImageRef } from '../model/machine-spec.js';
import { assignments } from './check-axes.js';
import type { CheckContext } from './raw.js';

/** A path to the user's own disk image, rather than the name of a built-in one. */
function isImagePath(text: string): boolean {
  return text.includes('/') || /\.(qcow2|img|raw)$/.test(text);
}

/** The guest image a cell boots, from its `image` axis value (paths are relative to the matrix file). */
export function imageRefFor(value: AxisValue | undefined, baseDir: string, packages: string[] = []): ImageRef {
  const text = value === undefined ? 'default' : String(value);
  if (text === 'default') return { kind: 'default' };
  if (isImagePath(text)) {
    const path = isAbsolute(text) ? text : resolve(baseDir, text);
    return { kind: 'disk', path, ...(/\.raw$/.test(text) ? { format: 'raw' as const } : {}) };
  }
  return { kind: 'distro', name: text, packages };
}

/**
 * `image` values: `default`, a built-in distribution image, or a disk file that exists. Packages
 * and systemd units need a distribution image in every cell (the default guest has no apt, no systemd).
 */
export function checkImage(ctx: CheckContext): void {
  const { raw, at, baseDir } = ctx;
  const values: string[] = [];
  for (const { path, axis, value } of assignments(ctx)) {
    if (axis !== 'image') continue;
    const text = String(value);
    values.push(text);
    if (text === 'default' || text in DISTRO_IMAGES) continue;
    if (!isImagePath(text)) {
      at(path, `image "${text}" is not default, a built-in image (${Object.keys(DISTRO_IMAGES).join(', ')}) or a path to a .qcow2/.img/.raw file`);
      continue;
    }
    const file = isAbsolute(text) ? text : resolve(baseDir, text);
    if (!existsSync(file) || !statSync(file).isFile()) at(path, `image file ${file} does not exist (paths are relative to the matrix file)`);
  }
  const onlyDistro = values.length > 0 && values.every((v) => v in DISTRO_IMAGES);
  if (raw.app?.packages?.length && !onlyDistro) {
    at(['app', 'packages'], `app.packages needs a distribution image in every cell (image: ${Object.keys(DISTRO_IMAGES).join(' or ')}); the default guest has no package manager`, true);
  }
  if (raw.app?.unit !== undefined && !onlyDistro) {
    at(['app', 'unit'], `app.unit needs systemd: every cell must use a distribution image (image: ${Object.keys(DISTRO_IMAGES).join(' or ')})`, true);
  }
}
