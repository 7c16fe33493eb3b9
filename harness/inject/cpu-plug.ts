import type { EventKind } from './kind.js';
import { EventParams } from './params.js';
import { changeCpus } from './cpu-count.js';

/** Plug `count` vCPUs (default 1) and wait until the guest has them online. */
export const cpuPlug: EventKind = {
  kind: 'cpu-plug',
  facet: 'cpus',
  describe: 'hot-plug vCPUs (device_add of the next free slot), onlined in the guest',
  run: ({ machine, params, signal }) => changeCpus(machine, new EventParams('cpu-plug', params).int('count', 1), () => machine.controls.cpus!.plug(), signal),
};
