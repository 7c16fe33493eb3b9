import { makeTempDir } from '../harness/core/temp-dir.js';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MACHINE } from '../harness/model/machine-spec.js';
import { ResourceScope } from '../harness/core/scope.js';
import { ensureDefaultImage } from '../harness/images/default-image.js';
import { probeKvm } from '../harness/machines/qemu/accel.js';
import { startQemuMachine, type QemuMachine } from '../harness/machines/qemu/machine.js';
import { SnapshotPool } from '../harness/snapshots/pool.js';
import { summarise, type BenchLine } from './stats.js';

type Way = 'cold' | 'restore, QEMU started on demand' | 'restore, pre-started QEMU';

/** Steps of each way, in the order they happen (ms, from the machine's start metrics). */
const STEPS: Record<Way, string[]> = {
  cold: ['qmp_ready_ms', 'boot_ms'],
  'restore, QEMU started on demand': ['qmp_ready_ms', 'restore_load_ms', 'restore_agent_ms', 'restore_clock_ms', 'restore_hostname_ms', 'restore_entropy_ms'],
  'restore, pre-started QEMU': ['restore_clock_ms', 'restore_hostname_ms', 'spare_qemu_start_ms', 'spare_load_ms', 'spare_agent_ms', 'spare_warm_ms'],
};

/**
 * Cell ready time: from asking for a machine until its agent answers (the machine handed to the
 * cell, then a guest-ping), and until a first command ran. Cold boot vs restore from a snapshot
 * with a QEMU started on demand vs one pre-started and loaded ahead (the runner's way), same
 * configuration, same run, taking turns so all see the same host load. Per-step medians show
 * where the time goes (`spare_*` steps happen before the cell asks, off its critical path).
 */
export async function benchCellReady(rounds = 7): Promise<BenchLine[]> {
  const kvm = await probeKvm(await ensureDefaultImage());
  const dir = makeTempDir('bench-snap-');
  const scope = new ResourceScope('bench-cell-ready');
  const withSpares = new SnapshotPool({ dir, kvm, scope });
  const onDemand = new SnapshotPool({ dir, kvm, scope, spares: 0 });
  const ways: Record<Way, (name: string) => Promise<QemuMachine>> = {
    cold: (name) => startQemuMachine(DEFAULT_MACHINE, { scope, kvm, name }),
    'restore, QEMU started on demand': (name) => onDemand.start(DEFAULT_MACHINE, { scope, name }),
    'restore, pre-started QEMU': (name) => withSpares.start(DEFAULT_MACHINE, { scope, name }),
  };
  const ready: Record<Way, number[]> = { cold: [], 'restore, QEMU started on demand': [], 'restore, pre-started QEMU': [] };
  const exec: Record<Way, number[]> = { cold: [], 'restore, QEMU started on demand': [], 'restore, pre-started QEMU': [] };
  const steps: Record<string, number[]> = {};
  try {
    // The first cell of the configuration donates the snapshot (a cold boot and a save).
    await (await withSpares.start(DEFAULT_MACHINE, { scope, name: 'donor' })).stop();
    for (let i = 0; i < rounds; i++) {
      for (const way of Object.keys(ways) as Way[]) {
        const started = performance.now();
        const machine = await ways[way](`${way.split(',')[0]}-${i}`);
        await machine.agent.ping();
        ready[way].push(performance.now() - started);
        await machine.exec(['true']);
        exec[way].push(performance.now() - started);
        for (const step of STEPS[way]) {
          const value = machine.startMetrics[step]?.value;
          if (value !== undefined) (steps[`${way}: ${step}`] ??= []).push(value);
        }
        await machine.stop();
      }
    }
  } finally {
    await scope.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  const median = (values: number[]) => summarise(values).median;
  const cold = median(ready.cold);
  const lines: BenchLine[] = [];
  for (const way of Object.keys(ways) as Way[]) {
    const s = summarise(ready[way]);
    lines.push({ name: `${way}: to agent answering (median of ${rounds}, ${kvm.usable ? 'KVM' : 'TCG'})`, value: s.median, unit: 'ms', detail: `p10 ${s.p10.toFixed(0)} p90 ${s.p90.toFixed(0)}` });
  }
  for (const way of Object.keys(ways) as Way[]) {
    const detail = STEPS[way]
      .filter((step) => steps[`${way}: ${step}`])
      .map((step) => `${step.replace(/_ms$/, '')} ${median(steps[`${way}: ${step}`]!).toFixed(0)}`)
      .join(', ');
    lines.push({ name: `${way}: steps (median ms)`, value: median(ready[way]), unit: 'ms', detail });
  }
  lines.push(
    { name: 'ratio restored (pre-started) / cold, to agent (target <= 0.05)', value: median(ready['restore, pre-started QEMU']) / cold, unit: 'ratio' },
    { name: 'ratio restored (QEMU on demand) / cold, to agent', value: median(ready['restore, QEMU started on demand']) / cold, unit: 'ratio' },
    { name: 'ratio restored (pre-started) / cold, to a first command run', value: median(exec['restore, pre-started QEMU']) / median(exec.cold), unit: 'ratio', detail: `${median(exec['restore, pre-started QEMU']).toFixed(0)} vs ${median(exec.cold).toFixed(0)} ms` },
  );
  return lines;
}
