import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { CellResult } from '../model/result.js';
import { writeReports } from './write-all.js';
import { renderIndex } from './html/index-page.js';
import { heatmapChunks, renderHeatmap } from './html/heatmap.js';
import { fixtureCell, fixtureRecord } from './fixture.test-helper.js';
import { useTempDirs } from './temp-dirs.test-helper.js';

const tempDir = useTempDirs();
const OUTCOMES: CellResult['outcome'][] = ['passed', 'passed', 'failed', 'error', 'skipped', 'incomplete', 'interrupted'];

/**
 * 315 cells over three axes (groups of rows, a hole in each group, every outcome, a quoted value)
 * and 5 planned cells without a result: a compact heat map, a problems table of many rows.
 */
function largeRecord() {
  const cells = Array.from({ length: 330 }, (_, i) => ({ a: i % 15, b: `b"${Math.floor(i / 15) % 11}`, g: Math.floor(i / 165), i }))
    .filter(({ a, b }) => !(a === 3 && b === 'b"7'))
    .slice(0, 315)
    .map(({ a, b, g, i }) => fixtureCell({ id: `c-${i}`, axes: { a, b, g }, outcome: OUTCOMES[i % OUTCOMES.length]!, ...(i % 5 === 2 ? { reason: `why <${i}>` } : {}) }));
  return { ...fixtureRecord(), cells, cellIds: [...cells.map((c) => c.id), ...Array.from({ length: 5 }, (_, i) => `planned-${i}`)] };
}

/** sha256 of renderIndex(largeRecord()) made by the index and heat map of before they were written in parts (cac7afa). */
const LARGE_INDEX_BEFORE = 'ebc3ba338a4571985b13e6703eb5252e8345a60e6fee3f9b7e7aa07b8a3b60e6';

describe('index.html written in parts', () => {
  it('is byte for byte the page the string renderer makes, and the page made before it was written in parts', async () => {
    const record = largeRecord();
    const dir = tempDir();
    const paths = await writeReports(record, dir);
    const written = readFileSync(paths.html, 'utf8');
    expect(written).toContain('<table class="heat compact">');
    expect(written).toContain('<td class="cell empty" title="not in the matrix"></td>');
    expect(written.match(/<td class="cell o-/g)).toHaveLength(315);
    expect(written.match(/<td class="muted">not run<\/td>/g)).toHaveLength(5);
    expect(written).toBe(renderIndex(record));
    expect(createHash('sha256').update(written).digest('hex')).toBe(LARGE_INDEX_BEFORE);
  });

  it('makes the heat map a row at a time, never one string', () => {
    const { cells } = largeRecord();
    const parts = [...heatmapChunks(cells)];
    // Head, 2 groups × 11 rows, tail: no part holds more than one row of 15 cells.
    expect(parts).toHaveLength(24);
    expect(Math.max(...parts.map((p) => p.length))).toBeLessThan(renderHeatmap(cells).length / 10);
    expect(parts.join('')).toBe(renderHeatmap(cells));
  });
});
