import { InfrastructureError } from '../../core/errors.js';
import type { ExecOptions, ExecResult } from '../../machines/machine.js';

/**
 * Wait until systemd has finished booting (`is-system-running --wait`: running, or degraded when a
 * unit failed). The agent answers long before that: commands run then would race boot jobs, and a
 * snapshot taken then would freeze them half done in every clone.
 */
export async function waitForSystemd(machine: { exec(command: string[], options?: ExecOptions): Promise<ExecResult> }, timeoutMs = 120_000): Promise<string> {
  const result = await machine.exec(['systemctl', 'is-system-running', '--wait'], { timeoutMs });
  const state = result.stdout.trim();
  if (state === 'running') return state;
  if (state === 'degraded') {
    const failed = await machine.exec(['systemctl', '--failed', '--no-legend', '--plain'], { timeoutMs: 20_000 });
    return `degraded (failed: ${failed.stdout.trim().split('\n').map((l) => l.split(/\s+/)[0]).join(', ') || 'none listed'})`;
  }
  throw new InfrastructureError('SYSTEMD_BOOT', `systemd did not finish booting: is-system-running says ${JSON.stringify(state || result.stderr.trim())}`);
}
