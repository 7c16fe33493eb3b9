import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDefaultImage } from '../harness/images/default-image.js';
import { defineCell, runOneCell } from '../harness/programmatic.js';

/**
 * A user's own kernel and initrd (`image: {kind: 'kernel'}`, the programmatic API) boot with their
 * own init, which may switch to a root disk: nothing of ours rides in the initramfs. The app's files
 * must still reach the guest (through the agent), or the cell fails for a reason that is not the app's.
 */
describe("a user's kernel and initrd", () => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-user-kernel-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gets the application files through the agent and runs the cell', { timeout: 180_000 }, async () => {
    const script = join(dir, 'hello-from-file.sh');
    writeFileSync(script, '#!/bin/sh\necho "file arrived: $(basename "$0") on $(grep -o "bw.test=[a-z-]*" /proc/cmdline)"\n');
    chmodSync(script, 0o755);
    const image = await ensureDefaultImage();
    const cell = defineCell({
      machine: { cpu: 'Nehalem', memory: '384M', image: { kind: 'kernel', kernel: image.kernel, initrd: image.initrd, append: image.append }, kernelAppend: 'bw.test=user-kernel' },
      app: { command: ['hello-from-file.sh'], files: [script], timeout: '60s' },
    });
    const result = await runOneCell(cell);
    expect(result.outcome, result.reason).toBe('passed');
    expect(result.log.map((l) => l.text)).toContain('file arrived: hello-from-file.sh on bw.test=user-kernel');
  });
});
