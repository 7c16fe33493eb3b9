import { loadavg } from 'node:os';
import { DEFAULT_MACHINE } from '../harness/model/machine-spec.js';
import { ResourceScope } from '../harness/core/scope.js';
import { startQemuMachine } from '../harness/machines/qemu/machine.js';
import { onlineCpus } from '../harness/machines/guest-view.js';
import type { MigrationOptions } from '../harness/machines/machine.js';
import { summarise, type BenchLine } from './stats.js';

/** QEMU's own defaults, for the comparison row. */
const QEMU_DEFAULTS: MigrationOptions = { maxBandwidthBytesPerSec: 128 * 1024 * 1024, downtimeLimitMs: 300 };

/**
 * Event costs on an idle 512 MiB guest: live migration on loopback with bothworlds' defaults vs
 * QEMU's own (128 MiB/s, 300 ms downtime limit), downtime as QEMU reports it and as the heartbeat
 * saw it; vCPU hot-plug from request to the guest seeing the CPU online. QEMU reports downtime in
 * whole ms and, under TCG on a shared 2-core host, one sample swings with the load: every figure is
 * a median of `migrations` with its spread, the two settings taking turns.
 */
export async function benchEvents(migrations = 9, plugs = 3): Promise<BenchLine[]> {
  const scope = new ResourceScope('bench-events');
  const lines: BenchLine[] = [];
  try {
    const machine = await startQemuMachine({ ...DEFAULT_MACHINE, memoryMiB: 512, vcpus: 1, maxVcpus: 1 + plugs }, { scope, name: 'bench-events' });
    const ours = { qemu: [] as number[], heartbeat: [] as number[], total: [] as number[] };
    const theirs = { qemu: [] as number[], heartbeat: [] as number[], total: [] as number[] };
    const loads: number[] = [];
    for (let i = 0; i < migrations; i++) {
      const turns: Array<[typeof ours, MigrationOptions]> = [
        [ours, {}],
        [theirs, QEMU_DEFAULTS],
      ];
      if (i % 2 === 1) turns.reverse();
      for (const [into, options] of turns) {
        const report = await machine.controls.migrate!.migrate({ timeoutMs: 60_000, ...options });
        into.qemu.push(report.metrics.downtime_qemu_ms!.value);
        into.heartbeat.push(report.metrics.downtime_heartbeat_ms!.value);
        into.total.push(report.metrics.total_ms!.value);
      }
      loads.push(loadavg()[0]!);
    }
    const plugTimes: number[] = [];
    for (let i = 0; i < plugs; i++) {
      const before = await onlineCpus(machine);
      const started = performance.now();
      await machine.controls.cpus!.plug();
      while ((await onlineCpus(machine)) <= before) await new Promise((r) => setTimeout(r, 10));
      plugTimes.push(performance.now() - started);
    }
    const m = (xs: number[]) => summarise(xs).median;
    const spread = (xs: number[]) => {
      const s = summarise(xs);
      return `p10 ${s.p10.toFixed(0)} p90 ${s.p90.toFixed(0)}; samples ${[...xs].sort((a, b) => a - b).map((x) => x.toFixed(0)).join(' ')}`;
    };
    lines.push(
      { name: `migration downtime, harness defaults (QEMU, median of ${migrations})`, value: m(ours.qemu), unit: 'ms', detail: `target <= 5 ms; ${spread(ours.qemu)}` },
      { name: 'migration downtime, harness defaults (heartbeat)', value: m(ours.heartbeat), unit: 'ms', detail: spread(ours.heartbeat) },
      { name: 'migration total time, harness defaults', value: m(ours.total), unit: 'ms', detail: spread(ours.total) },
      { name: "migration downtime, QEMU's defaults (QEMU)", value: m(theirs.qemu), unit: 'ms', detail: spread(theirs.qemu) },
      { name: "migration downtime, QEMU's defaults (heartbeat)", value: m(theirs.heartbeat), unit: 'ms', detail: spread(theirs.heartbeat) },
      { name: 'load average (1 min) after each pair of migrations', value: m(loads), unit: 'load', detail: loads.map((l) => l.toFixed(2)).join(' ') },
      { name: `vCPU hot-plug request to online in guest (median of ${plugs})`, value: m(plugTimes), unit: 'ms', detail: 'target < 500 ms' },
    );
  } finally {
    await scope.dispose();
  }
  return lines;
}
