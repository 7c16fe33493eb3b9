import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withBuildLock } from './build-lock.js';

describe('image build lock', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-build-lock-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lets one of two concurrent builders build; the other waits and finds the result', async () => {
    const target = join(dir, 'image-a');
    let builds = 0;
    const build = async () => {
      builds++;
      await new Promise((resolve) => setTimeout(resolve, 300));
      mkdirSync(target);
      return 'built';
    };
    const results = await Promise.all([withBuildLock(target, build), withBuildLock(target, build)]);
    expect(builds).toBe(1);
    expect(results.sort()).toEqual(['built', undefined].sort());
    expect(existsSync(`${target}.tmp-lock`)).toBe(false);
  });

  it('takes over the lock of a builder that died', async () => {
    const target = join(dir, 'image-b');
    mkdirSync(`${target}.tmp-lock`);
    writeFileSync(`${target}.tmp-lock/pid`, '999999999');
    expect(await withBuildLock(target, async () => 'rebuilt', { timeoutMs: 5_000 })).toBe('rebuilt');
  });

  it('releases the lock when the build fails', async () => {
    const target = join(dir, 'image-c');
    await expect(withBuildLock(target, async () => Promise.reject(new Error('mirror down')))).rejects.toThrow('mirror down');
    expect(existsSync(`${target}.tmp-lock`)).toBe(false);
  });
});
