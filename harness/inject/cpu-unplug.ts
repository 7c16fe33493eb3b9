import { metric } from '../model/metrics.js';
import type { EventKind } from './kind.js';
import { EventParams } from './params.js';
import { cpusOf, observe } from './observe.js';

/** Remove `count` vCPUs (offline through the agent on QEMU; offline through sysfs on hosts). */
export function cpuRemoval(kind: 'cpu-unplug' | 'cpu-offline'): EventKind {
  return {
    kind,
    facet: 'cpus',
    describe: kind === 'cpu-unplug' ? 'take vCPUs away from the guest (offline through the agent)' : 'offline host CPUs through sysfs (restored at the end of the cell)',
    async run({ machine, params, signal }) {
      const count = new EventParams(kind, params).int('count', 1);
      const before = await cpusOf(machine)();
      let acknowledgedAt = 0;
      const details: unknown[] = [];
      for (let i = 0; i < count; i++) {
        const ack = await machine.controls.cpus!.unplug();
        acknowledgedAt ||= ack.acknowledgedAt;
        details.push(ack.detail);
      }
      const seen = await observe(cpusOf(machine), (n) => n <= before - count, `${before - count} online CPUs`, signal);
      return { acknowledgedAt, observedAt: seen.at, metrics: { cpus_before: metric(before, 'count'), cpus_after: metric(seen.value, 'count') }, detail: { removed: details } };
    },
  };
}

export const cpuUnplug = cpuRemoval('cpu-unplug');
