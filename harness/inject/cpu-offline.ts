import { cpuCountEvent } from './cpu-count.js';

/** The physical counterpart of a vCPU unplug: offline a host CPU (always brought back at the end of the cell). */
export const cpuOffline = cpuCountEvent('cpu-offline', -1, 'offline host CPUs through sysfs (restored at the end of the cell)');
