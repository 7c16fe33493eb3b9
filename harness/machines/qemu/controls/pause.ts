import type { Ack, MachineControls } from '../../machine.js';
import type { QemuMachine } from '../machine.js';

/** `stop` / `cont`, acknowledged by QEMU's STOP / RESUME events (subscribed before sending). */
export function createPauseControl(machine: QemuMachine): NonNullable<MachineControls['pause']> {
  const toggle = async (command: 'stop' | 'cont', event: 'STOP' | 'RESUME'): Promise<Ack> => {
    const seen = machine.qmp.waitForEvent(event, { timeoutMs: 10_000 });
    await machine.qmp.execute(command);
    const ack = await seen;
    return { acknowledgedAt: ack.receivedAt, metrics: {} };
  };
  return {
    pause: () => toggle('stop', 'STOP'),
    resume: () => toggle('cont', 'RESUME'),
  };
}
