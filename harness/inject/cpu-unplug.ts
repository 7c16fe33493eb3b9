import type { EventKind } from './kind.js';
import { EventParams } from './params.js';
import { changeCpus } from './cpu-count.js';

/** Remove `count` vCPUs (offline through the agent on QEMU; offline through sysfs on hosts). */
export function cpuRemoval(kind: 'cpu-unplug' | 'cpu-offline'): EventKind {
  return {
    kind,
    facet: 'cpus',
    describe: kind === 'cpu-unplug' ? 'take vCPUs away from the guest (offline through the agent)' : 'offline host CPUs through sysfs (restored at the end of the cell)',
    run: ({ machine, params, signal }) => changeCpus(machine, -new EventParams(kind, params).int('count', 1), () => machine.controls.cpus!.unplug(), signal),
  };
}

export const cpuUnplug = cpuRemoval('cpu-unplug');
