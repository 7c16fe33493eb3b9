import { metric } from '../model/metrics.js';
import type { EventKind } from './kind.js';
import { EventParams } from './params.js';
import { cpusOf, observe } from './observe.js';

/** The physical counterpart of a vCPU plug: bring an offline host CPU back. */
export const cpuOnline: EventKind = {
  kind: 'cpu-online',
  facet: 'cpus',
  describe: 'online host CPUs that were offlined',
  async run({ machine, params, signal }) {
    const count = new EventParams('cpu-online', params).int('count', 1);
    const before = await cpusOf(machine)();
    let acknowledgedAt = 0;
    for (let i = 0; i < count; i++) acknowledgedAt ||= (await machine.controls.cpus!.plug()).acknowledgedAt;
    const seen = await observe(cpusOf(machine), (n) => n >= before + count, `${before + count} online CPUs`, signal);
    return { acknowledgedAt, observedAt: seen.at, metrics: { cpus_before: metric(before, 'count'), cpus_after: metric(seen.value, 'count') } };
  },
};
