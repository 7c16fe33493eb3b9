import { createHash } from 'node:crypto';
import type { AxisValue } from '../model/cell.js';

const LEADING = ['backend', 'cpu', 'vcpus', 'maxvcpus', 'memory', 'events'];

/**
 * A stable, readable, filename-safe id from axis values: the same values give the same id on
 * every machine, whatever the key order ("qemu-nehalem-vcpus2-mem512m-cpu-plug-3f9a1c").
 */
export function cellId(axes: Record<string, AxisValue>): string {
  const keys = Object.keys(axes).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const readable = keys
    .map((key) => {
      const value = String(axes[key]);
      if (typeof axes[key] === 'number' || typeof axes[key] === 'boolean') return `${short(key)}${value}`;
      return key === 'memory' || key === 'maxmem' ? `${short(key)}${value}` : value;
    })
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 72)
    .replace(/-+$/, '');
  const canonical = JSON.stringify(keys.slice().sort().map((k) => [k, axes[k]]));
  const digest = createHash('sha256').update(canonical).digest('hex').slice(0, 6);
  return readable ? `${readable}-${digest}` : digest;
}

function rank(key: string): number {
  const index = LEADING.indexOf(key);
  return index < 0 ? LEADING.length : index;
}

function short(key: string): string {
  return { memory: 'mem', maxvcpus: 'max', maxmem: 'maxmem' }[key] ?? key;
}
