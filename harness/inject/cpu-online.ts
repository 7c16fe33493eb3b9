import { cpuCountEvent } from './cpu-count.js';

/** The physical counterpart of a vCPU plug: bring an offline host CPU back. */
export const cpuOnline = cpuCountEvent('cpu-online', 1, 'online host CPUs that were offlined');
