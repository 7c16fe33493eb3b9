/** This host's CPU flags (the harness host: the physical reference for VM cells). */
export { hostCpuFlags } from '../../harness/cpu/host-flags.js';
