import { createHash } from 'node:crypto';
import type { AxisValue } from '../model/cell.js';

const LEADING = ['backend', 'cpu', 'vcpus', 'maxvcpus', 'memory', 'events'];

/**
 * A stable, readable, filename-safe id from axis values: the same values give the same id on
 * every machine, whatever the key order ("qemu-nehalem-vcpus2-mem512m-cpu-plug-3f9a1c").
 */
export function cellId(axes: Record<string, AxisValue>): string {
  const { keys, canonicalKeys } = keyOrder(Object.keys(axes));
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
  const canonical = JSON.stringify(canonicalKeys.map((k) => [k, axes[k]]));
  const digest = createHash('sha256').update(canonical).digest('hex').slice(0, 6);
  return readable ? `${readable}-${digest}` : digest;
}

interface KeyOrder {
  /** Readable order: the leading axes first, then by localeCompare. */
  keys: string[];
  /** Digest order: code-unit sort. */
  canonicalKeys: string[];
}

/**
 * Both orders per list of axis names, cached: all cells of a matrix have the same names, and a
 * localeCompare sort per cell was most of a 10,000-cell expansion's short-lived allocations.
 */
const orders = new Map<string, KeyOrder>();
const MAX_ORDERS = 256;

function keyOrder(names: string[]): KeyOrder {
  // Keyed by the names in their given order: localeCompare ties keep it (a stable sort).
  const key = names.join('\u0000');
  let order = orders.get(key);
  if (!order) {
    if (orders.size >= MAX_ORDERS) orders.clear();
    const keys = names.slice().sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
    order = { keys, canonicalKeys: keys.slice().sort() };
    orders.set(key, order);
  }
  return order;
}

function rank(key: string): number {
  const index = LEADING.indexOf(key);
  return index < 0 ? LEADING.length : index;
}

const SHORT: Record<string, string> = { memory: 'mem', maxvcpus: 'max', maxmem: 'maxmem' };

function short(key: string): string {
  return SHORT[key] ?? key;
}
