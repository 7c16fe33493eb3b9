import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MACHINE } from '../harness/model/machine-spec.js';
import { ResourceScope } from '../harness/core/scope.js';
import { ensureDefaultImage } from '../harness/images/default-image.js';
import { probeKvm } from '../harness/machines/qemu/accel.js';
import { startQemuMachine } from '../harness/machines/qemu/machine.js';
import { SnapshotPool } from '../harness/snapshots/pool.js';
import { summarise, type BenchLine } from './stats.js';

/**
 * Cell ready time (machine started → agent answers a command), cold boot vs snapshot restore,
 * same configuration, same run, alternating so both see the same host load.
 */
export async function benchCellReady(rounds = 5): Promise<BenchLine[]> {
  const kvm = await probeKvm(await ensureDefaultImage());
  const dir = mkdtempSync(join(tmpdir(), 'bw-bench-snap-'));
  const scope = new ResourceScope('bench-cell-ready');
  const pool = new SnapshotPool({ dir, kvm, scope });
  const cold: number[] = [];
  const restored: number[] = [];
  try {
    await (await pool.start(DEFAULT_MACHINE, { scope, name: 'warm-golden' })).stop();
    for (let i = 0; i < rounds; i++) {
      let started = performance.now();
      const a = await startQemuMachine(DEFAULT_MACHINE, { scope, kvm, name: `cold-${i}` });
      await a.exec(['true']);
      cold.push(performance.now() - started);
      await a.stop();
      started = performance.now();
      const b = await pool.start(DEFAULT_MACHINE, { scope, name: `restored-${i}` });
      await b.exec(['true']);
      restored.push(performance.now() - started);
      await b.stop();
    }
  } finally {
    await scope.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  const c = summarise(cold);
  const r = summarise(restored);
  return [
    { name: `cold boot to agent+exec (${kvm.usable ? 'KVM' : 'TCG'}, median of ${rounds})`, value: c.median, unit: 'ms', detail: `p10 ${c.p10.toFixed(0)} p90 ${c.p90.toFixed(0)}` },
    { name: `snapshot restore to agent+exec (median of ${rounds})`, value: r.median, unit: 'ms', detail: `p10 ${r.p10.toFixed(0)} p90 ${r.p90.toFixed(0)}` },
    { name: 'ratio restored / cold (target <= 0.10)', value: r.median / c.median, unit: 'ratio' },
  ];
}
