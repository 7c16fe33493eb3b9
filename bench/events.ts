import { DEFAULT_MACHINE } from '../harness/model/machine-spec.js';
import { ResourceScope } from '../harness/core/scope.js';
import { startQemuMachine } from '../harness/machines/qemu/machine.js';
import { onlineCpus } from '../harness/machines/guest-view.js';
import { summarise, type BenchLine } from './stats.js';

/**
 * Event costs on an idle 512 MiB guest: live migration on loopback with bothworlds' defaults vs
 * QEMU's own (128 MiB/s, 300 ms downtime limit), downtime as QEMU reports it and as the heartbeat
 * saw it; vCPU hot-plug from request to the guest seeing the CPU online.
 */
export async function benchEvents(rounds = 3): Promise<BenchLine[]> {
  const scope = new ResourceScope('bench-events');
  const lines: BenchLine[] = [];
  try {
    const machine = await startQemuMachine({ ...DEFAULT_MACHINE, memoryMiB: 512, vcpus: 1, maxVcpus: 1 + rounds }, { scope, name: 'bench-events' });
    const downtime = { harness: [] as number[], harnessHb: [] as number[], qemu: [] as number[], qemuHb: [] as number[], total: [] as number[] };
    for (let i = 0; i < rounds; i++) {
      const ours = await machine.controls.migrate!.migrate({ timeoutMs: 60_000 });
      downtime.harness.push(ours.metrics.downtime_qemu_ms!.value);
      downtime.harnessHb.push(ours.metrics.downtime_heartbeat_ms!.value);
      downtime.total.push(ours.metrics.total_ms!.value);
      const defaults = await machine.controls.migrate!.migrate({ timeoutMs: 60_000, maxBandwidthBytesPerSec: 128 * 1024 * 1024, downtimeLimitMs: 300 });
      downtime.qemu.push(defaults.metrics.downtime_qemu_ms!.value);
      downtime.qemuHb.push(defaults.metrics.downtime_heartbeat_ms!.value);
    }
    const plugs: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const before = await onlineCpus(machine);
      const started = performance.now();
      await machine.controls.cpus!.plug();
      while ((await onlineCpus(machine)) <= before) await new Promise((r) => setTimeout(r, 10));
      plugs.push(performance.now() - started);
    }
    const m = (xs: number[]) => summarise(xs).median;
    lines.push(
      { name: `migration downtime, harness defaults (QEMU, median of ${rounds})`, value: m(downtime.harness), unit: 'ms', detail: 'target <= 5 ms' },
      { name: 'migration downtime, harness defaults (heartbeat)', value: m(downtime.harnessHb), unit: 'ms' },
      { name: 'migration total time, harness defaults', value: m(downtime.total), unit: 'ms' },
      { name: "migration downtime, QEMU's defaults (QEMU)", value: m(downtime.qemu), unit: 'ms' },
      { name: "migration downtime, QEMU's defaults (heartbeat)", value: m(downtime.qemuHb), unit: 'ms' },
      { name: `vCPU hot-plug request to online in guest (median of ${rounds})`, value: m(plugs), unit: 'ms', detail: 'target < 500 ms' },
    );
  } finally {
    await scope.dispose();
  }
  return lines;
}
