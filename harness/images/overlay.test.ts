import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { ResourceScope } from '../core/scope.js';
import { hashFile } from './hash.js';
import { createOverlay } from './overlay.js';

describe('createOverlay', () => {
  const scope = new ResourceScope('overlay-test');
  afterAll(async () => {
    expect(await scope.dispose()).toEqual([]);
  });

  for (const format of ['raw', 'qcow2'] as const) {
    it(`puts a qcow2 overlay on a ${format} base that writes never reach`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'bw-overlay-'));
      scope.registerTempDir(dir);
      const base = join(dir, `base.${format}`);
      await execa('qemu-img', ['create', '-q', '-f', format, base, '4M']);
      await execa('qemu-io', ['-f', format, '-c', 'write -P 0x11 0 64k', base]);
      const before = await hashFile(base);
      const overlay = await createOverlay(base, dir);
      const info = JSON.parse((await execa('qemu-img', ['info', '--output=json', overlay])).stdout) as Record<string, unknown>;
      expect(info.format).toBe('qcow2');
      expect(info['backing-filename']).toBe(base);
      expect(info['backing-filename-format']).toBe(format);
      await execa('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0xab 0 64k', overlay]);
      expect(await hashFile(base)).toBe(before);
      // Reads through the overlay see the new data; the base still has the old.
      const overlayRead = await execa('qemu-io', ['-f', 'qcow2', '-c', 'read -P 0xab 0 64k', overlay]);
      expect(overlayRead.stdout).not.toMatch(/Pattern verification failed/);
      const baseRead = await execa('qemu-io', ['-f', format, '-r', '-c', 'read -P 0x11 0 64k', base]);
      expect(baseRead.stdout).not.toMatch(/Pattern verification failed/);
    });
  }

  it('names an unreadable base image as a config error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bw-overlay-'));
    scope.registerTempDir(dir);
    await expect(createOverlay(join(dir, 'missing.qcow2'), dir)).rejects.toThrow(ConfigError);
  });
});
