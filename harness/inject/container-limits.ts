import { metric } from '../model/metrics.js';
import type { EventKind } from './kind.js';
import { EventParams } from './params.js';
import { changeCpus } from './cpu-count.js';

/** A container's CPU limit grows by `count` (docker update --cpuset-cpus/--cpus): the container counterpart of a vCPU plug. */
export const containerCpus: EventKind = {
  kind: 'container-cpus',
  facet: 'cpus',
  describe: "raise a running container's CPU limit",
  run: ({ machine, params, signal }) => changeCpus(machine, new EventParams('container-cpus', params).int('count', 1), () => machine.controls.cpus!.plug(), signal),
};

/** A container's memory limit changes (docker update --memory): the container counterpart of ballooning. */
export const containerMemory: EventKind = {
  kind: 'container-memory',
  facet: 'balloon',
  describe: "change a running container's memory limit",
  async run({ machine, params }) {
    const sizeMiB = new EventParams('container-memory', params).sizeMiB('size');
    const ack = await machine.controls.balloon!.setTargetMiB(sizeMiB, 10_000);
    return { acknowledgedAt: ack.acknowledgedAt, observedAt: ack.acknowledgedAt, metrics: { ...ack.metrics, limit_mib: metric(sizeMiB, 'MiB') } };
  },
};
