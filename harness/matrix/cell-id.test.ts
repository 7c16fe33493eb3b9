import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AxisValue } from '../model/cell.js';
import { cellId } from './cell-id.js';
import { expandMatrix } from './expand.js';
import { parseMatrix } from './load.js';

/** cellId as it was before its key orders were cached (commit c85cb32): ids must not change. */
function oldCellId(axes: Record<string, AxisValue>): string {
  const leading = ['backend', 'cpu', 'vcpus', 'maxvcpus', 'memory', 'events'];
  const rank = (key: string) => (leading.indexOf(key) < 0 ? leading.length : leading.indexOf(key));
  const short = (key: string): string => ({ memory: 'mem', maxvcpus: 'max', maxmem: 'maxmem' })[key] ?? key;
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

const MATRICES = [
  'axes: {cpu: [Nehalem, max], vcpus: [1, 2], memory: [384M, 1G], events: [none]}\n',
  'defaults: {backend: local}\naxes: {b: [0, 1, 2], a: [x, y], Tier: [Small], tier: [big], pool-size: [3], maxvcpus: [4], balloon: [true, false]}\n',
  'axes: {zeta: [1], "Ärger": [ja], alpha: [2], maxmem: [2G], slots: [2]}\ninclude: [{extra: e1}, {cpu: max, other: o}]\n',
  'axes: {}\n',
];

describe('cell ids', () => {
  it('are byte-identical to the uncached ids over several matrices, whatever the key order', () => {
    let compared = 0;
    for (const text of MATRICES) {
      for (const cell of expandMatrix(parseMatrix(`name: ids\napp: {command: [/bin/true]}\n${text}`, '/tmp/ids.yaml')).cells) {
        const reversed = Object.fromEntries(Object.entries(cell.axes).reverse());
        expect(cell.id).toBe(oldCellId(cell.axes));
        expect(cellId(reversed)).toBe(oldCellId(reversed));
        expect(cellId(reversed)).toBe(cell.id);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(20);
  });
});
