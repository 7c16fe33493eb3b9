import { cpuCountEvent } from './cpu-count.js';

/** Remove `count` vCPUs: offline through the agent on QEMU (device_del only where a probe showed it safe). */
export const cpuUnplug = cpuCountEvent('cpu-unplug', -1, 'take vCPUs away from the guest (offline through the agent)');
