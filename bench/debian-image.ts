import { makeTempDir } from '../harness/core/temp-dir.js';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DEFAULT_MACHINE, type MachineSpec } from '../harness/model/machine-spec.js';
import { ensureDefaultImage } from '../harness/images/default-image.js';
import { ensureDistroImage } from '../harness/images/debian/image.js';
import { waitForSystemd } from '../harness/images/debian/settle.js';
import { probeKvm } from '../harness/machines/qemu/accel.js';
import { startQemuMachine } from '../harness/machines/qemu/machine.js';
import { SnapshotPool } from '../harness/snapshots/pool.js';
import { ResourceScope } from '../harness/core/scope.js';

/**
 * The debian-12 image's costs: cold build (a private cache folder, so nothing shared is removed),
 * cached lookup, cold boot to a working agent and to systemd running, snapshot restore to a working
 * agent (medians of 3), and the default guest's cold boot interleaved for a ratio.
 * `npx tsc -p tsconfig.json && node dist/bench/debian-image.js`
 */
const RUNS = 3;
const SPEC: MachineSpec = { ...DEFAULT_MACHINE, cpuModel: 'Nehalem', memoryMiB: 512, image: { kind: 'distro', name: 'debian-12', packages: [] } };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const coldCache = makeTempDir('bench-debian-');
const scope = new ResourceScope('bench-debian');
try {
  // The default image and tools first (the distro image reuses its kernel), so only the distro build is timed.
  await ensureDefaultImage({ cacheDir: coldCache });
  let started = performance.now();
  const cold = await ensureDistroImage('debian-12', { cacheDir: coldCache });
  const coldMs = performance.now() - started;
  const info = JSON.parse(readFileSync(join(dirname(cold.disk), 'image.json'), 'utf8')) as { bootstrapMs: number };
  started = performance.now();
  await ensureDistroImage('debian-12');
  const cachedMs = performance.now() - started;
  rmSync(coldCache, { recursive: true, force: true });

  const kvm = await probeKvm(await ensureDefaultImage());
  const agentMs: number[] = [];
  const systemdMs: number[] = [];
  const defaultAgentMs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    // The default guest, interleaved: on a shared host only the ratio compares across runs.
    const plain = scope.child(`default-${i}`);
    const reference = await startQemuMachine({ ...SPEC, image: { kind: 'default' } }, { scope: plain, kvm, name: `bench-default-${i}` });
    defaultAgentMs.push(reference.startMetrics.boot_ms!.value);
    await plain.dispose();
    const own = scope.child(`cold-${i}`);
    const launched = performance.now();
    const machine = await startQemuMachine(SPEC, { scope: own, kvm, name: `bench-debian-${i}`, bootTimeoutMs: 180_000 });
    agentMs.push(machine.startMetrics.boot_ms!.value);
    await waitForSystemd(machine);
    systemdMs.push(performance.now() - launched);
    await own.dispose();
  }
  const snapshotDir = makeTempDir('bench-debian-snap-');
  const pool = new SnapshotPool({ dir: snapshotDir, kvm, scope });
  await (await pool.start(SPEC, { scope: scope.child('golden'), name: 'bench-golden' })).stop();
  const restoreMs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const own = scope.child(`restore-${i}`);
    const machine = await pool.start(SPEC, { scope: own, name: `bench-restore-${i}` });
    restoreMs.push(machine.startMetrics.restore_ms!.value);
    await own.dispose();
  }
  rmSync(snapshotDir, { recursive: true, force: true });
  const result = {
    cold_build_s: +(coldMs / 1000).toFixed(1),
    of_which_mmdebstrap_s: +(info.bootstrapMs / 1000).toFixed(1),
    cached_lookup_ms: Math.round(cachedMs),
    cold_boot_to_agent_ms: Math.round(median(agentMs)),
    cold_boot_to_systemd_running_ms: Math.round(median(systemdMs)),
    default_image_cold_boot_to_agent_ms: Math.round(median(defaultAgentMs)),
    debian_vs_default_boot_ratio: +(median(agentMs) / median(defaultAgentMs)).toFixed(2),
    snapshot_restore_to_agent_ms: Math.round(median(restoreMs)),
    runs: { agentMs: agentMs.map(Math.round), systemdMs: systemdMs.map(Math.round), defaultAgentMs: defaultAgentMs.map(Math.round), restoreMs: restoreMs.map(Math.round) },
    loadAverage: (await import('node:os')).loadavg().map((l) => +l.toFixed(1)),
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  await scope.dispose();
  rmSync(coldCache, { recursive: true, force: true });
}
