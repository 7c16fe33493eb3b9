import { defineEvent } from './kind.js';
import { EventParams } from './params.js';

/** Set the guest's wall clock to the host's (guest-set-time), measuring the drift before and after. */
export const clockCorrect = defineEvent<Record<string, never>>({
  kind: 'clock-correct',
  facet: 'clock',
  describe: "set the guest's clock from the host",
  validate(params) {
    new EventParams('clock-correct', params);
    return {};
  },
  async apply({ machine }) {
    const ack = await machine.controls.clock!.correct();
    return { acknowledgedAt: ack.acknowledgedAt, observedAt: ack.acknowledgedAt, metrics: ack.metrics };
  },
});
