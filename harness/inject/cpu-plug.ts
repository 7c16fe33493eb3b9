import { cpuCountEvent } from './cpu-count.js';

/** Plug `count` vCPUs (default 1: device_add of the next free slot) and wait until the guest has them online. */
export const cpuPlug = cpuCountEvent('cpu-plug', 1, 'hot-plug vCPUs (device_add of the next free slot), onlined in the guest');
