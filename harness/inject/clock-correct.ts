import type { EventKind } from './kind.js';

/** Set the guest's wall clock to the host's (guest-set-time), measuring the drift before and after. */
export const clockCorrect: EventKind = {
  kind: 'clock-correct',
  facet: 'clock',
  describe: "set the guest's clock from the host",
  async run({ machine }) {
    const ack = await machine.controls.clock!.correct();
    return { acknowledgedAt: ack.acknowledgedAt, observedAt: ack.acknowledgedAt, metrics: ack.metrics };
  },
};
