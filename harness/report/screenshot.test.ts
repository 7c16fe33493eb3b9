import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ResourceScope } from '../core/scope.js';
import { writeReports } from './write-all.js';
import { CHROMIUM, screenshotPage } from './screenshot.js';
import { fixtureRecord } from './fixture.test-helper.js';
import { useTempDirs } from './temp-dirs.test-helper.js';

const tempDir = useTempDirs();
const scope = new ResourceScope('report-screenshot-test');
afterAll(async () => {
  await scope.dispose();
});

/** Where the screenshots are kept for a person to look at (CI uploads test artifacts from here). */
const KEEP = process.env.BOTHWORLDS_SCREENSHOTS;

function pngSize(file: string): { width: number; height: number } {
  const png = readFileSync(file);
  expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

describe('report in a real browser', () => {
  it('renders index.html and a cell page in headless Chromium to non-trivial PNGs', { timeout: 150_000 }, async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (listed in scripts/packages/report.txt; scripts/setup.sh installs it)`).toBe(true);
    const dir = tempDir();
    const paths = await writeReports(fixtureRecord(), dir);
    const out = KEEP ?? dir;
    mkdirSync(out, { recursive: true });

    const index = join(out, 'report-index.png');
    const { bytes } = await screenshotPage(paths.html, index, { scope, width: 1280, height: 900 });
    expect(pngSize(index)).toEqual({ width: 1280, height: 900 });
    // A blank 1280×900 page compresses to a few KiB; the heatmap, tables and text make it far larger.
    expect(bytes).toBeGreaterThan(30_000);

    const cell = join(out, 'report-cell.png');
    await screenshotPage(join(dir, 'cells', 'qemu-nehalem-vcpus1-aaaaaa.html'), cell, { scope, width: 1280, height: 1400 });
    expect(pngSize(cell)).toEqual({ width: 1280, height: 1400 });
    expect(scope.size).toBe(0);
  });
});
