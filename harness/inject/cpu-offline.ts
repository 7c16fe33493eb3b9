import { cpuRemoval } from './cpu-unplug.js';

/** The physical counterpart of a vCPU unplug: offline a host CPU (always brought back at the end of the cell). */
export const cpuOffline = cpuRemoval('cpu-offline');
