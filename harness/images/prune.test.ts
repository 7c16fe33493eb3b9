import { existsSync, mkdirSync, mkdtempSync, readdirSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ResourceScope } from '../core/scope.js';
import { markUsed, pruneEntries } from './prune.js';

describe('cache pruning', () => {
  const scope = new ResourceScope('prune-test');
  afterAll(async () => {
    expect(await scope.dispose()).toEqual([]);
  });

  function cacheWith(entries: Array<[string, number]>): string {
    const root = mkdtempSync(join(tmpdir(), 'bw-prune-'));
    scope.registerTempDir(root);
    for (const [name, ageMs] of entries) {
      mkdirSync(join(root, name));
      const at = new Date(Date.now() - ageMs);
      utimesSync(join(root, name), at, at);
    }
    return root;
  }

  it('keeps the most recently used entries and anything used recently, removes the rest', () => {
    const hour = 3_600_000;
    const root = cacheWith([['default-a', 5 * hour], ['default-b', 4 * hour], ['default-c', 3 * hour], ['default-d', 10_000], ['default-e.tmp-1-ff', 9 * hour], ['other', 9 * hour]]);
    const removed = pruneEntries(root, { prefix: 'default-', keep: 1, minIdleMs: hour });
    expect(removed.map((p) => p.slice(root.length + 1)).sort()).toEqual(['default-a', 'default-b', 'default-c']);
    // default-d: kept (most recent); a builder's temp dir and other names are never touched.
    expect(readdirSync(root).sort()).toEqual(['default-d', 'default-e.tmp-1-ff', 'other']);
  });

  it('a used entry counts as recent', () => {
    const root = cacheWith([['x', 9 * 3_600_000], ['y', 8 * 3_600_000]]);
    markUsed(join(root, 'x'));
    pruneEntries(root, { keep: 1, minIdleMs: 0 });
    expect(existsSync(join(root, 'x'))).toBe(true);
    expect(existsSync(join(root, 'y'))).toBe(false);
  });

  it('a missing cache dir prunes nothing', () => {
    expect(pruneEntries(join(tmpdir(), 'bw-prune-absent-dir'), { keep: 0, minIdleMs: 0 })).toEqual([]);
  });
});
