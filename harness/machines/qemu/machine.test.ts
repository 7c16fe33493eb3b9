import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { ResourceScope } from '../../core/scope.js';
import { DEFAULT_MACHINE } from '../../model/machine-spec.js';
import { ensureDefaultImage } from '../../images/default-image.js';
import { InfrastructureError, UnsupportedError } from '../../core/errors.js';
import { probeKvm, type KvmProbe } from './accel.js';
import { startQemuMachine, type QemuMachine } from './machine.js';
import { pollUntil } from '../../core/deadline.js';
import type { ConsoleLine } from '../../model/result.js';

/** Real QEMU, real guest agent: the engine boots the default guest under TCG here. */
describe('QEMU machine', () => {
  const scope = new ResourceScope('qemu-machine-test');
  let kvm: KvmProbe;
  let machine: QemuMachine;

  beforeAll(async () => {
    kvm = await probeKvm(await ensureDefaultImage());
    machine = await startQemuMachine({ ...DEFAULT_MACHINE, vcpus: 2, maxVcpus: 2 }, { scope, kvm, name: 'engine-test' });
  });
  afterAll(async () => {
    await scope.dispose();
  });

  it('probes KVM with a real boot and says why it is not used', () => {
    expect(typeof kvm.usable).toBe('boolean');
    expect(kvm.reason.length).toBeGreaterThan(5);
    expect(machine.accel).toBe(kvm.usable ? 'kvm' : 'tcg');
  });

  it('boots to a working agent and records boot timings', async () => {
    expect(machine.startMetrics.boot_ms?.unit).toBe('ms');
    expect(machine.startMetrics.boot_ms!.value).toBeGreaterThan(0);
    expect(machine.startMetrics.prepare_ms?.unit).toBe('ms');
    expect(machine.instance.steps.qmp).toBeGreaterThan(0);
    // A kernel boot needs no disk overlay: no temp dir made for one.
    expect(scope.describe().filter((r) => /tempdir .*\/disk-/.test(r))).toEqual([]);
    const result = await machine.exec(['/bin/sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(result).toMatchObject({ exitCode: 3, stdout: 'out\n', stderr: 'err\n', timedOut: false });
  });

  it('collects facts the same way as on a physical host', async () => {
    const facts = await machine.facts();
    expect(facts.onlineCpus).toBe(2);
    expect(facts.cpuFlags).toContain('hypervisor');
    expect(facts.memTotalKiB).toBeGreaterThan(300 * 1024);
    expect(facts.memTotalKiB).toBeLessThanOrEqual(512 * 1024);
    expect(facts.clocksource.length).toBeGreaterThan(0);
  });

  it('moves files in and out of the guest', async () => {
    const data = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));
    await machine.writeFile('/tmp/blob', data, 0o600);
    expect((await machine.readFile('/tmp/blob')).equals(data)).toBe(true);
  });

  it('onlines and offlines vCPUs through the agent and sets the guest clock', async () => {
    await machine.agent.setVcpus([{ 'logical-id': 1, online: false }]);
    expect((await machine.exec(['nproc'])).stdout.trim()).toBe('1');
    await machine.agent.setVcpus([{ 'logical-id': 1, online: true }]);
    expect((await machine.exec(['nproc'])).stdout.trim()).toBe('2');
    await machine.agent.setTime(BigInt(Date.UTC(2030, 0, 1)) * 1_000_000n);
    expect((await machine.exec(['date', '-u', '+%Y'])).stdout.trim()).toBe('2030');
    await machine.agent.setTime();
    const guestNs = await machine.agent.getTime();
    expect(Math.abs(Number(guestNs / 1_000_000n) - Date.now())).toBeLessThan(2_000);
  });

  it('streams a background process to the app output', async () => {
    const app = await machine.spawn(['/bin/sh', '-c', 'echo hello-from-app; sleep 0.2; echo bye; exit 4']);
    const line = await machine.output.waitForLine(/hello-from-app/, 10_000, 'app');
    expect(line.source).toBe('app');
    const result = await app.wait(10_000);
    expect(result.exitCode).toBe(4);
  });

  it('beats slowly while idle and every 5 ms while the host measures', async () => {
    const beats: Array<{ t: number; interval: number }> = [];
    const listener = (line: ConsoleLine): void => {
      const match = /^hb \d+ \d+ \d+ (\d+)$/.exec(line.text);
      if (line.source === 'heartbeat' && match) beats.push({ t: performance.now(), interval: Number(match[1]) });
    };
    machine.output.on('line', listener);
    try {
      await pollUntil(async () => beats.length, (n) => n >= 1, { timeoutMs: 5_000, intervalMs: 50, what: 'an idle heartbeat' });
      expect(beats.at(-1)!.interval).toBe(1000);
      expect(await machine.heartbeat.measure()).toBe(5);
      const from = beats.length;
      await new Promise((resolve) => setTimeout(resolve, 500));
      const fast = beats.slice(from);
      expect(fast.every((b) => b.interval === 5)).toBe(true);
      // Every 5 ms is 100 in 500 ms; a loaded TCG host delivers fewer, but far more than idle's one.
      expect(fast.length).toBeGreaterThan(20);
      machine.heartbeat.idle();
      await pollUntil(async () => beats.at(-1)!.interval, (i) => i === 1000, { timeoutMs: 2_000, intervalMs: 10, what: 'the idle pace acknowledged' });
      const idleFrom = beats.length;
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(beats.length - idleFrom).toBeLessThanOrEqual(2);
    } finally {
      machine.output.removeListener('line', listener);
    }
  });
});

describe('CPU models seen from inside the guest', () => {
  const EXPECTED: Record<string, RegExp> = { Nehalem: /Nehalem/, SandyBridge: /Sandy Bridge/, max: /QEMU TCG CPU|QEMU Virtual CPU|max/ };
  for (const model of Object.keys(EXPECTED)) {
    it(`boots ${model} with 2 vCPUs and 384 MiB`, async () => {
      const scope = new ResourceScope(`model-${model}`);
      try {
        const machine = await startQemuMachine({ ...DEFAULT_MACHINE, cpuModel: model, vcpus: 2, maxVcpus: 2, memoryMiB: 384 }, { scope, name: `model-${model}` });
        const facts = await machine.facts();
        if (machine.accel === 'tcg' || model !== 'max') expect(facts.cpuModelName).toMatch(EXPECTED[model]!);
        expect((await machine.exec(['nproc'])).stdout.trim()).toBe('2');
        expect(facts.memTotalKiB).toBeGreaterThan(300 * 1024);
        expect(facts.memTotalKiB).toBeLessThanOrEqual(384 * 1024);
      } finally {
        await scope.dispose();
      }
    });
  }
});

describe('QEMU machine failures', () => {
  it('reports a guest that never answers as BOOT_TIMEOUT naming the last console line', async () => {
    const scope = new ResourceScope('boot-timeout-test');
    try {
      const error = await startQemuMachine(
        { ...DEFAULT_MACHINE, kernelAppend: 'rdinit=/does-not-exist panic=0' },
        { scope, bootTimeoutMs: 8_000, name: 'boot-timeout' },
      ).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(InfrastructureError);
      expect((error as InfrastructureError).code).toBe('BOOT_TIMEOUT');
      expect((error as Error).message).toMatch(/last console line/);
    } finally {
      await scope.dispose();
    }
  });

  it('turns a crashed QEMU into an infrastructure error and leaves nothing behind', async () => {
    const scope = new ResourceScope('crash-test');
    const machine = await startQemuMachine(DEFAULT_MACHINE, { scope, name: 'crash' });
    const pid = machine.instance.process.pid;
    const runDir = machine.instance.runDir;
    process.kill(pid, 'SIGKILL');
    const lost = await machine.lost;
    expect(lost).toBeInstanceOf(InfrastructureError);
    expect((lost as InfrastructureError).code).toBe('QEMU_EXITED');
    await expect(machine.exec(['true'], { timeoutMs: 2_000 })).rejects.toThrow();
    await machine.stop().catch(() => undefined);
    await scope.dispose();
    expect(existsSync(runDir)).toBe(false);
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it('skips a cell that needs KVM when KVM is not usable, with the reason', async () => {
    const scope = new ResourceScope('needs-kvm-test');
    try {
      const error = await startQemuMachine(
        { ...DEFAULT_MACHINE, cpuModel: 'host-passthrough' },
        { scope, kvm: { usable: false, reason: 'test: KVM guests hang here', probeMs: 0 } },
      ).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UnsupportedError);
      expect((error as Error).message).toMatch(/KVM/);
    } finally {
      await scope.dispose();
    }
  });
});
