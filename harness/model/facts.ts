/** What bothworlds learns about any machine, virtual or physical, the same way on each. */
export interface MachineFacts {
  /** /proc/cpuinfo "model name" of the first CPU. */
  cpuModelName: string;
  /** /proc/cpuinfo "flags" of the first CPU, sorted. */
  cpuFlags: string[];
  /** Online CPUs (sysconf / /sys/devices/system/cpu/online). */
  onlineCpus: number;
  /** CPUs the kernel could bring online (/sys/devices/system/cpu/present). */
  presentCpus: number;
  memTotalKiB: number;
  memAvailableKiB: number;
  /** /sys/devices/system/clocksource/clocksource0/current_clocksource */
  clocksource: string;
  availableClocksources: string[];
  kernelRelease: string;
  /** Whether a perf_event_open of hardware cycles/instructions succeeds, when probed. */
  pmu?: { cycles: boolean; instructions: boolean; detail?: string };
}
