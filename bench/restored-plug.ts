import { makeTempDir } from '../harness/core/temp-dir.js';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MACHINE, type MachineSpec } from '../harness/model/machine-spec.js';
import { ResourceScope } from '../harness/core/scope.js';
import { ensureDefaultImage } from '../harness/images/default-image.js';
import { probeKvm } from '../harness/machines/qemu/accel.js';
import { SnapshotPool } from '../harness/snapshots/pool.js';
import { cpuPlug } from '../harness/inject/cpu-plug.js';
import { describeError } from '../harness/core/errors.js';
import type { QemuMachine } from '../harness/machines/qemu/machine.js';

export interface RestoredPlugResult {
  rounds: number;
  failures: number;
  /** What the guest showed in each failed round. */
  failed: Array<{ round: number; error: string; guest: string }>;
  plugMs: number[];
}

/**
 * Restore a clone from one golden snapshot and plug a vCPU, `rounds` times, `parallel` clones at
 * a time (the matrix runner's concurrency): the issue 11 flake (a plugged vCPU never online in a
 * restored clone) reproduced and counted. Each round is a fresh clone, as a matrix cell is.
 * `node dist/bench/restored-plug.js [rounds] [parallel] [busy]`.
 */
export async function benchRestoredPlug(rounds = 100, parallel = 2, busy = false, spec: MachineSpec = { ...DEFAULT_MACHINE, cpuModel: 'Nehalem', vcpus: 1, maxVcpus: 2, memoryMiB: 384 }): Promise<RestoredPlugResult> {
  const dir = makeTempDir('restored-plug-');
  const scope = new ResourceScope('bench-restored-plug');
  const result: RestoredPlugResult = { rounds, failures: 0, failed: [], plugMs: [] };
  try {
    const kvm = await probeKvm(await ensureDefaultImage());
    const pool = new SnapshotPool({ dir, kvm, scope });
    let next = 0;
    const worker = async () => {
      for (let round = next++; round < rounds; round = next++) {
        const own = scope.child(`round-${round}`);
        let machine: QemuMachine | undefined;
        try {
          machine = await pool.start(spec, { scope: own, name: `plug-${round}` });
          // An application keeping the vCPU busy, as in a matrix cell (the failures had one).
          if (busy) await machine.exec(['sh', '-c', 'sh -c "while :; do :; done" </dev/null >/dev/null 2>&1 &']);
          const started = performance.now();
          await cpuPlug.run({ machine, params: { count: 1 }, signal: AbortSignal.timeout(60_000) });
          result.plugMs.push(performance.now() - started);
        } catch (error) {
          result.failures++;
          const guest = machine ? await inspect(machine) : 'no machine';
          result.failed.push({ round, error: describeError(error), guest });
          process.stderr.write(`round ${round}: ${describeError(error)}\n${guest}\n`);
        } finally {
          await own.dispose();
        }
        if ((round + 1) % 10 === 0) process.stderr.write(`${round + 1} rounds, ${result.failures} failed\n`);
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
  } finally {
    await scope.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

/** What the guest says about its CPUs: sysfs, the scheduler's view, the agent's view, the kernel log. */
async function inspect(machine: QemuMachine): Promise<string> {
  const script = 'echo online=$(cat /sys/devices/system/cpu/online) present=$(cat /sys/devices/system/cpu/present) nproc=$(nproc); grep Cpus_allowed_list /proc/self/status /proc/1/status; dmesg | grep -i -E "cpu|smpboot|acpi" | tail -n 15';
  const parts: string[] = [];
  try {
    parts.push(JSON.stringify(await machine.agent.getVcpus()));
    parts.push((await machine.exec(['sh', '-c', script], { timeoutMs: 10_000 })).stdout);
  } catch (error) {
    parts.push(`inspect failed: ${describeError(error)}`);
  }
  return parts.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rounds = Number(process.argv[2] ?? 100);
  const parallel = Number(process.argv[3] ?? 2);
  const busy = process.argv[4] === 'busy';
  const result = await benchRestoredPlug(rounds, parallel, busy);
  const median = result.plugMs.sort((a, b) => a - b)[Math.floor(result.plugMs.length / 2)] ?? Number.NaN;
  process.stdout.write(`${JSON.stringify({ rounds: result.rounds, parallel, busy, failures: result.failures, failed: result.failed.map((f) => f.round), plugMedianMs: Math.round(median) })}\n`);
}
