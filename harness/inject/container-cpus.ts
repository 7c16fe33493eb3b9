import { cpuCountEvent } from './cpu-count.js';

/** A container's CPU limit grows by `count` (docker update --cpuset-cpus/--cpus): the container counterpart of a vCPU plug. */
export const containerCpus = cpuCountEvent('container-cpus', 1, "raise a running container's CPU limit");
