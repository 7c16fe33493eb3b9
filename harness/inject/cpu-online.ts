import type { EventKind } from './kind.js';
import { EventParams } from './params.js';
import { changeCpus } from './cpu-count.js';

/** The physical counterpart of a vCPU plug: bring an offline host CPU back. */
export const cpuOnline: EventKind = {
  kind: 'cpu-online',
  facet: 'cpus',
  describe: 'online host CPUs that were offlined',
  run: ({ machine, params, signal }) => changeCpus(machine, new EventParams('cpu-online', params).int('count', 1), () => machine.controls.cpus!.plug(), signal),
};
