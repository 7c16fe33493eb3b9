import { pollUntil } from '../../../core/deadline.js';
import { metric } from '../../../model/metrics.js';
import type { Ack, MachineControls } from '../../machine.js';
import type { QemuMachine } from '../machine.js';

const MiB = 1024 * 1024;

/** virtio-balloon (deflate-on-oom): `balloon`, then wait until `query-balloon` reaches the target. */
export function createBalloonControl(machine: QemuMachine): NonNullable<MachineControls['balloon']> {
  const actualMiB = async () => (await machine.qmp.execute('query-balloon')).actual / MiB;
  return {
    actualMiB,
    async setTargetMiB(targetMiB: number, timeoutMs: number): Promise<Ack> {
      const started = performance.now();
      const before = await actualMiB();
      await machine.qmp.execute('balloon', { value: Math.round(targetMiB * MiB) });
      const reached = await pollUntil(actualMiB, (actual) => Math.abs(actual - targetMiB) <= 1, {
        timeoutMs,
        intervalMs: 25,
        what: `the balloon to reach ${targetMiB} MiB`,
      });
      return {
        acknowledgedAt: performance.now(),
        metrics: { balloon_before_mib: metric(before, 'MiB'), balloon_after_mib: metric(reached, 'MiB'), balloon_ms: metric(performance.now() - started, 'ms') },
      };
    },
  };
}
