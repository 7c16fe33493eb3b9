import { metric } from '../model/metrics.js';
import { defineEvent } from './kind.js';
import { EventParams } from './params.js';

/** A container's memory limit changes (docker update --memory): the container counterpart of ballooning. */
export const containerMemory = defineEvent<{ sizeMiB: number; timeoutMs: number }>({
  kind: 'container-memory',
  facet: 'balloon',
  describe: "change a running container's memory limit",
  validate(params) {
    const p = new EventParams('container-memory', params, ['size', 'timeout']);
    return { sizeMiB: p.sizeMiB('size'), timeoutMs: p.timeoutMs('timeout', 10_000) };
  },
  async apply({ machine, params }) {
    const ack = await machine.controls.balloon!.setTargetMiB(params.sizeMiB, params.timeoutMs);
    return { acknowledgedAt: ack.acknowledgedAt, observedAt: ack.acknowledgedAt, metrics: { ...ack.metrics, limit_mib: metric(params.sizeMiB, 'MiB') } };
  },
});
