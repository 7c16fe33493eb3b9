import { describe, expect, it } from 'vitest';
import { runCli } from './cli-helpers.js';

/** The README's command: boot the debian-12 guest, run one command in it, print what it printed. */
describe('bothworlds boot --image', () => {
  it('boots debian-12 and runs systemctl is-system-running once systemd finished booting', { timeout: 900_000 }, async () => {
    const result = await runCli(['boot', '--image', 'debian-12', '--cpu', 'Nehalem', '--', 'systemctl', 'is-system-running']);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toBe('running');
    expect(result.stderr).toMatch(/booted Nehalem under (TCG|KVM) to a working agent in \d+ ms\nsystemd running \d+ ms later/);
  });

  it('rejects an image it does not know before starting anything (exit 2)', async () => {
    const result = await runCli(['boot', '--image', 'debian-13', '--', 'true']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/--image: unknown image "debian-13": built-in images are debian-12/);
  });
});
