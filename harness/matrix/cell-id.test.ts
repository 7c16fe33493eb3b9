import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cellId } from './cell-id.js';
import { expandMatrix } from './expand.js';
import { parseMatrix } from './load.js';

const MATRICES = [
  'axes: {cpu: [Nehalem, max], vcpus: [1, 2], memory: [384M, 1G], events: [none]}\n',
  'defaults: {backend: local}\naxes: {b: [0, 1, 2], a: [x, y], Tier: [Small], tier: [big], pool-size: [3], maxvcpus: [4], balloon: [true, false]}\n',
  'axes: {zeta: [1], "Ärger": [ja], alpha: [2], maxmem: [2G], slots: [2]}\ninclude: [{extra: e1}, {cpu: max, other: o}]\n',
  'axes: {}\n',
];

describe('cell ids', () => {
  /**
   * The ids of each matrix above (count, sha256 of the ids joined by newlines, the first), as the
   * uncached cellId made them (12f58b7, where a copy of the old function was compared): ids name
   * result folders and resumed runs, so they must never change.
   */
  const GOLDEN: Array<[number, string, string]> = [
    [8, 'd712321afcb5d379', 'nehalem-vcpus1-mem384m-none-71dbc3'],
    [12, 'eaf3a7d4b181b218', 'local-max4-x-b0-balloontrue-pool-size3-big-small-c9ea19'],
    [1, 'bcffc249c2a82301', 'max-alpha2-ja-e1-maxmem2g-o-slots2-zeta1-94d9e6'],
    [1, '58c650415fb2055c', '4f53cd'],
  ];

  it('are byte-identical to the uncached ids over several matrices, whatever the key order', () => {
    MATRICES.forEach((text, i) => {
      const cells = expandMatrix(parseMatrix(`name: ids\napp: {command: [/bin/true]}\n${text}`, '/tmp/ids.yaml')).cells;
      const ids = cells.map((c) => c.id);
      expect([ids.length, createHash('sha256').update(ids.join('\n')).digest('hex').slice(0, 16), ids[0]]).toEqual(GOLDEN[i]);
      for (const cell of cells) expect(cellId(Object.fromEntries(Object.entries(cell.axes).reverse()))).toBe(cell.id);
    });
  });
});
