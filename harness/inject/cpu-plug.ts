import { metric } from '../model/metrics.js';
import type { EventKind } from './kind.js';
import { EventParams } from './params.js';
import { cpusOf, observe } from './observe.js';

/** Plug `count` vCPUs (default 1) and wait until the guest has them online. */
export const cpuPlug: EventKind = {
  kind: 'cpu-plug',
  facet: 'cpus',
  describe: 'hot-plug vCPUs (device_add of the next free slot), onlined in the guest',
  async run({ machine, params, signal }) {
    const count = new EventParams('cpu-plug', params).int('count', 1);
    const before = await cpusOf(machine)();
    let acknowledgedAt = 0;
    const details: unknown[] = [];
    for (let i = 0; i < count; i++) {
      const ack = await machine.controls.cpus!.plug();
      acknowledgedAt ||= ack.acknowledgedAt;
      details.push(ack.detail);
    }
    const seen = await observe(cpusOf(machine), (n) => n >= before + count, `the guest to show ${before + count} online CPUs`, signal);
    return {
      acknowledgedAt,
      observedAt: seen.at,
      metrics: { cpus_before: metric(before, 'count'), cpus_after: metric(seen.value, 'count') },
      detail: { vcpusBefore: before, vcpusAfter: seen.value, plugged: details },
    };
  },
};
