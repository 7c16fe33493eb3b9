import { DEFAULT_MACHINE } from '../harness/model/machine-spec.js';
import { ResourceScope } from '../harness/core/scope.js';
import { ensureDefaultImage } from '../harness/images/default-image.js';
import { probeKvm } from '../harness/machines/qemu/accel.js';
import { startQemuMachine } from '../harness/machines/qemu/machine.js';
import type { BenchLine } from './stats.js';

/** Boot N guests at once; guests per minute shows how far parallel boots scale on this host. */
export async function benchConcurrency(levels = [1, 2, 4]): Promise<BenchLine[]> {
  const kvm = await probeKvm(await ensureDefaultImage());
  const lines: BenchLine[] = [];
  let single = 0;
  for (const n of levels) {
    const scope = new ResourceScope(`bench-concurrency-${n}`);
    const started = performance.now();
    try {
      const machines = await Promise.all(
        Array.from({ length: n }, (_, i) => startQemuMachine(DEFAULT_MACHINE, { scope, kvm, name: `par-${n}-${i}` })),
      );
      await Promise.all(machines.map((m) => m.exec(['true'])));
    } finally {
      const wall = performance.now() - started;
      await scope.dispose();
      const perMinute = (n * 60_000) / wall;
      if (n === 1) single = perMinute;
      lines.push({ name: `${n} parallel cold boots: wall time`, value: wall, unit: 'ms', detail: `${perMinute.toFixed(1)} guests/min, ${(perMinute / (single || perMinute)).toFixed(2)}x of 1` });
    }
  }
  return lines;
}
