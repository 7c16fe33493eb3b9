import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { ResourceScope } from '../core/scope.js';
import { DEFAULT_MACHINE } from '../model/machine-spec.js';
import { InfrastructureError } from '../core/errors.js';
import { startQemuMachine } from '../machines/qemu/machine.js';

/** A user's disk image that does not boot (here: an empty one) under real QEMU. */
describe('a user disk image that does not boot', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-user-image-'));
  const scope = new ResourceScope('user-image-test');
  afterAll(async () => {
    await scope.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails with BOOT_TIMEOUT naming the image, its last console line and what an image needs, and never writes the image', async () => {
    const image = join(dir, 'my.qcow2');
    await execa('qemu-img', ['create', '-q', '-f', 'qcow2', image, '64M']);
    const before = (await execa('sha256sum', [image])).stdout;
    const error = await startQemuMachine({ ...DEFAULT_MACHINE, image: { kind: 'disk', path: image } }, { scope, name: 'user-image', bootTimeoutMs: 6_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InfrastructureError);
    expect((error as InfrastructureError).code).toBe('BOOT_TIMEOUT');
    expect((error as Error).message).toContain(`image ${image}: guest agent did not answer within 6000 ms; last console line:`);
    expect((error as Error).message).toMatch(/qemu-guest-agent on the virtio port org\.qemu\.guest_agent\.0/);
    expect((await execa('sha256sum', [image])).stdout).toBe(before);
    expect((await execa('pgrep', ['-f', 'name user-image'], { reject: false })).stdout).toBe('');
  });
});
