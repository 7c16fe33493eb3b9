import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { ResourceScope } from '../core/scope.js';
import { buildAtomically } from './atomic-dir.js';
import { ensureDefaultImage, type GuestImage } from './default-image.js';
import { sharedLibraries } from './libraries.js';
import { withPayload } from './payload.js';

describe('payload archive appended to the base initramfs', () => {
  const scope = new ResourceScope('payload-test');
  let base: GuestImage;
  let cache: string;
  let work: string;

  beforeAll(async () => {
    base = await ensureDefaultImage();
    cache = mkdtempSync(join(tmpdir(), 'bw-payload-cache-'));
    work = mkdtempSync(join(tmpdir(), 'bw-payload-work-'));
    scope.registerTempDir(cache);
    scope.registerTempDir(work);
  }, 180_000);

  afterAll(async () => {
    expect(await scope.dispose()).toEqual([]);
  });

  it('keeps the base untouched as a prefix and adds the app and its ldd libraries', async () => {
    const script = join(work, 'run.sh');
    writeFileSync(script, '#!/bin/sh\necho hi\n', { mode: 0o755 });
    const image = await withPayload(base, { files: ['/usr/bin/stat', script] }, { cacheDir: cache });
    expect(image.kernel).toBe(base.kernel);
    expect(image.hash).not.toBe(base.hash);
    const baseBytes = readFileSync(base.initrd);
    const combined = readFileSync(image.initrd);
    expect(combined.subarray(0, baseBytes.length).equals(baseBytes)).toBe(true);
    // The second archive alone: the app under /opt/bothworlds/app, libraries at their host paths.
    const listing = await execa('cpio', ['-it', '--quiet'], { input: combined.subarray(baseBytes.length) });
    const files = listing.stdout.split('\n');
    expect(files).toContain('opt/bothworlds/app/stat');
    expect(files).toContain('opt/bothworlds/app/run.sh');
    const libraries = await sharedLibraries('/usr/bin/stat');
    expect(libraries.length).toBeGreaterThan(0);
    for (const library of libraries) expect(files).toContain(library.slice(1));
  });

  it('is cached by content: the same files give the same archive, a changed file a new one', async () => {
    const file = join(work, 'data.txt');
    writeFileSync(file, 'one\n');
    const first = await withPayload(base, { files: [file] }, { cacheDir: cache });
    const second = await withPayload(base, { files: [file] }, { cacheDir: cache });
    expect(second).toEqual(first);
    writeFileSync(file, 'two\n');
    const third = await withPayload(base, { files: [file] }, { cacheDir: cache });
    expect(third.hash).not.toBe(first.hash);
    expect(third.initrd).not.toBe(first.initrd);
  });

  it('refuses a missing application file, or two with the same name, with a config error naming it', async () => {
    await expect(withPayload(base, { files: [join(work, 'absent')] }, { cacheDir: cache })).rejects.toThrow(ConfigError);
    await expect(withPayload(base, { files: [join(work, 'absent')] }, { cacheDir: cache })).rejects.toThrow(/absent/);
    const a = join(work, 'a');
    const b = join(work, 'b');
    mkdirSync(a);
    mkdirSync(b);
    writeFileSync(join(a, 'same'), '1');
    writeFileSync(join(b, 'same'), '2');
    await expect(withPayload(base, { files: [join(a, 'same'), join(b, 'same')] }, { cacheDir: cache })).rejects.toThrow(/both named same/);
  });
});

describe('atomic cache entries', () => {
  it('two concurrent builders both succeed and leave exactly one complete entry', async () => {
    const root = mkdtempSync(join(tmpdir(), 'bw-atomic-'));
    const scope = new ResourceScope('atomic-test');
    scope.registerTempDir(root);
    try {
      const target = join(root, 'entry');
      const build = (label: string) => async (dir: string) => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        writeFileSync(join(dir, 'a'), label);
        writeFileSync(join(dir, 'b'), label);
      };
      await Promise.all([buildAtomically(target, build('x')), buildAtomically(target, build('y'))]);
      expect(readdirSync(root)).toEqual(['entry']);
      const a = readFileSync(join(target, 'a'), 'utf8');
      expect(readFileSync(join(target, 'b'), 'utf8')).toBe(a);
      await expect(buildAtomically(join(root, 'failed'), async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
      expect(existsSync(join(root, 'failed'))).toBe(false);
      expect(readdirSync(root)).toEqual(['entry']);
    } finally {
      await scope.dispose();
    }
  });
});
