import { metric } from '../../../model/metrics.js';
import type { Ack, MachineControls } from '../../machine.js';
import type { QemuMachine } from '../machine.js';

/**
 * Set the guest's wall clock from the host (`guest-set-time`). A paused or restored guest's clock
 * lags the host by the pause length until corrected (QEMU-NOTES); the drift is measured first.
 */
export function createClockControl(machine: QemuMachine): NonNullable<MachineControls['clock']> {
  return {
    correct: async (): Promise<Ack> => {
      const guestBefore = await machine.agent.getTime();
      const hostBefore = BigInt(Date.now()) * 1_000_000n;
      await machine.agent.setTime();
      const acknowledgedAt = performance.now();
      const guestAfter = await machine.agent.getTime();
      const hostAfter = BigInt(Date.now()) * 1_000_000n;
      return {
        acknowledgedAt,
        metrics: {
          drift_before_ms: metric(Number(guestBefore - hostBefore) / 1e6, 'ms'),
          drift_after_ms: metric(Number(guestAfter - hostAfter) / 1e6, 'ms'),
        },
      };
    },
  };
}
