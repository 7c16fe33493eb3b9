import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ResourceScope } from '../../run/resources.js';
import { pollUntil } from '../../core/deadline.js';
import type { StartedMachine } from '../machine.js';
import { createHostCpuControl, readCpuState, restoreScript } from '../hosts/cpu-hotplug.js';
import { watchdogCommand, type HostShell } from '../hosts/shell.js';
import { startLocalMachine } from './index.js';

const CPU_DIR = '/sys/devices/system/cpu';
const isRoot = process.getuid?.() === 0;
const hotpluggable = readdirSync(CPU_DIR).filter((d) => /^cpu\d+$/.test(d) && d !== 'cpu0' && existsSync(join(CPU_DIR, d, 'online')));
const canOffline = isRoot && hotpluggable.length > 0 && nproc() > 1;
const TEST_CPUSET = `/sys/fs/cgroup/cpuset/bw-physical-test-${process.pid}`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function nproc(): number {
  return Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
}

/** Unconditional last line of defence: every CPU online, recorded cpusets back, test cpuset gone. */
const cpusetsBefore = new Map<string, string>();
function restoreEverything(): void {
  for (const cpu of hotpluggable) {
    try {
      writeFileSync(join(CPU_DIR, cpu, 'online'), '1');
    } catch {
      // Not root: nothing was changed.
    }
  }
  for (const [path, cpus] of cpusetsBefore) {
    try {
      if (readFileSync(path, 'utf8').trim() !== cpus) writeFileSync(path, cpus);
    } catch {
      // Removed meanwhile.
    }
  }
  if (existsSync(TEST_CPUSET)) rmdirSync(TEST_CPUSET);
}

describe('local machine', () => {
  let scope: ResourceScope;
  let machine: StartedMachine;

  beforeAll(() => {
    if (existsSync('/sys/fs/cgroup/cpuset')) {
      for (const entry of readdirSync('/sys/fs/cgroup/cpuset')) {
        const file = join('/sys/fs/cgroup/cpuset', entry, 'cpuset.cpus');
        if (existsSync(file)) cpusetsBefore.set(file, readFileSync(file, 'utf8').trim());
      }
    }
  });
  afterAll(restoreEverything);

  afterEach(async () => {
    await scope.dispose();
  });

  const start = async (): Promise<StartedMachine> => {
    scope = new ResourceScope('local-test');
    machine = await startLocalMachine({ scope, name: 'local-test' });
    return machine;
  };

  it('execs with exit code, stdout, stderr, input, env and a deadline', async () => {
    await start();
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      expect((await machine.exec(['true'])).exitCode).toBe(0);
      times.push(performance.now() - t0);
    }
    console.log(`local exec round trip: first ${times[0]!.toFixed(1)} ms, median ${median(times).toFixed(1)} ms`);
    const result = await machine.exec(['sh', '-c', 'read x; echo "out $x $BW_VAR"; echo err >&2; exit 3'], { input: 'hello\n', env: { BW_VAR: 'v' } });
    expect(result).toMatchObject({ exitCode: 3, stdout: 'out hello v\n', stderr: 'err\n', timedOut: false });
    const slow = await machine.exec(['sleep', '10'], { timeoutMs: 200 });
    expect(slow.timedOut).toBe(true);
    expect(slow.durationMs).toBeLessThan(3_000);
    await expect(machine.exec(['/nonexistent/bw'])).rejects.toMatchObject({ code: 'EXEC' });
  });

  it('keeps the payload dir private and removes it at stop', async () => {
    await start();
    expect(statSync(machine.payloadDir).mode & 0o777).toBe(0o700);
    const script = join(machine.payloadDir, 'app.sh');
    await machine.writeFile(script, '#!/bin/sh\necho payload ran\n', 0o755);
    expect(statSync(script).mode & 0o777).toBe(0o755);
    expect((await machine.readFile(script)).toString()).toContain('payload ran');
    expect((await machine.exec([script])).stdout).toBe('payload ran\n');
    await machine.stop();
    await machine.stop();
    expect(existsSync(machine.payloadDir)).toBe(false);
  });

  it('streams a spawned process line by line and kill escalates TERM to KILL', async () => {
    await start();
    const app = await machine.spawn(['sh', '-c', 'trap "" TERM; echo first; sleep 0.3; echo second; exec sleep 60']);
    const second = await machine.output.waitForLine(/^second$/, 5_000, 'app');
    const first = machine.output.lines.find((l) => l.text === 'first')!;
    expect(first.source).toBe('app');
    expect(second.t - first.t).toBeGreaterThan(200);
    expect(await app.isRunning()).toBe(true);
    const t0 = performance.now();
    await app.kill('TERM');
    expect(performance.now() - t0).toBeGreaterThan(1_500); // TERM was ignored, KILL followed
    const result = await app.wait(1_000);
    expect(result.signal).toBe('KILL');
    expect(await app.isRunning()).toBe(false);
  });

  it('kills the processes it started when its scope is disposed', async () => {
    await start();
    const app = await machine.spawn(['sleep', '60']);
    await scope.dispose();
    expect(() => process.kill(app.pid, 0)).toThrow();
  });

  it('collects facts the same way as a guest, with nproc and the PMU', async () => {
    await start();
    const facts = await machine.facts();
    expect(facts.onlineCpus).toBe(nproc());
    expect(facts.cpuFlags.length).toBeGreaterThan(5);
    expect(facts.memTotalKiB).toBeGreaterThan(0);
    expect(facts.kernelRelease).toBe(execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim());
    expect(facts.pmu).toBeDefined();
    expect(facts.pmu!.detail).toMatch(/cycles/);
    console.log(`local PMU: ${JSON.stringify(facts.pmu)}`);
  });

  it('holds memory under pressure and releases it', async () => {
    await start();
    const ack = await machine.controls.memoryPressure!.hold(64);
    const pid = ack.detail!.pid as number;
    const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
    expect(rssKiB).toBeGreaterThan(60 * 1024);
    await machine.controls.memoryPressure!.release();
    expect(existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/status`, 'utf8').includes('zombie')).toBe(false);
  });

  it('says why migration, balloon and pause are absent', async () => {
    await start();
    expect(machine.controls.migrate).toBeUndefined();
    expect(machine.controls.balloon).toBeUndefined();
    expect(machine.controls.unsupportedReason.migrate).toMatch(/cannot be live-migrated/);
  });

  it('refuses cpu0 plainly: it has no online file', async () => {
    await start();
    const cpus = createHostCpuControl(machine as unknown as HostShell, scope);
    await expect(cpus.setOnline(0, false)).rejects.toMatchObject({ code: 'CPU_NOT_HOTPLUGGABLE', category: 'unsupported' });
  });

  it.skipIf(hotpluggable.length === 0)('refuses a CPU change as a non-root user, saying so', async () => {
    await start();
    const shell = machine as unknown as HostShell;
    const nobody: HostShell = {
      ...shell,
      description: 'this host as uid 65534',
      exec: (command, options) => machine.exec(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...command], options),
    };
    const cpus = createHostCpuControl(nobody, scope);
    await expect(cpus.unplug()).rejects.toMatchObject({ code: 'CPU_HOTPLUG_NOT_ROOT', message: expect.stringMatching(/needs root.*uid 65534/) });
    expect(nproc()).toBe(hotpluggable.length + 1);
  });

  it.skipIf(!canOffline)('offlines a CPU, onlines it, and restores CPUs and cpusets at the end of the cell', async () => {
    mkdirSync(TEST_CPUSET);
    writeFileSync(join(TEST_CPUSET, 'cpuset.cpus'), readFileSync('/sys/fs/cgroup/cpuset/cpuset.cpus', 'utf8').trim());
    writeFileSync(join(TEST_CPUSET, 'cpuset.mems'), readFileSync('/sys/fs/cgroup/cpuset/cpuset.mems', 'utf8').trim());
    const cpusetBefore = readFileSync(join(TEST_CPUSET, 'cpuset.cpus'), 'utf8').trim();
    await start();
    const before = nproc();

    const t0 = performance.now();
    const ack = await machine.controls.cpus!.unplug();
    await pollUntil(() => machine.exec(['nproc']), (r) => Number(r.stdout) === before - 1, { timeoutMs: 10_000, intervalMs: 1, what: 'nproc to drop' });
    const visible = performance.now();
    console.log(`CPU offline: unplug() ${(ack.acknowledgedAt - t0).toFixed(1)} ms (first change records state, arms the watchdog), the write itself ${ack.metrics.write_ms!.value.toFixed(1)} ms, acknowledged→nproc visible ${(visible - ack.acknowledgedAt).toFixed(1)} ms`);
    expect(ack.detail).toMatchObject({ online: false });
    expect((await machine.facts()).onlineCpus).toBe(before - 1);
    // The kernel shrank the cpuset when the CPU left (PLATFORM-NOTES).
    expect(readFileSync(join(TEST_CPUSET, 'cpuset.cpus'), 'utf8').trim()).not.toBe(cpusetBefore);

    await machine.controls.cpus!.plug();
    expect(nproc()).toBe(before);
    // Back online, but the cpuset stays shrunk until the cell's restoration runs.
    await machine.controls.cpus!.unplug();
    expect(nproc()).toBe(before - 1);

    await scope.dispose(); // the end of the cell
    expect(nproc()).toBe(before);
    expect(readFileSync(join(TEST_CPUSET, 'cpuset.cpus'), 'utf8').trim()).toBe(cpusetBefore);
  });

  it.skipIf(!canOffline)('the exit hook restores CPUs synchronously when async teardown never runs', async () => {
    await start();
    const before = nproc();
    await machine.controls.cpus!.unplug();
    expect(nproc()).toBe(before - 1);
    scope.disposeSync();
    expect(nproc()).toBe(before);
  });

  it.skipIf(!canOffline)('the watchdog restores CPUs when the harness is SIGKILLed', async () => {
    const state = await readCpuState(await start() as unknown as HostShell);
    const before = nproc();
    // A stand-in harness: arms the same watchdog the control arms, offlines a CPU, then waits to be killed.
    const harness = [
      "const { spawn } = require('node:child_process'); const fs = require('node:fs');",
      "const [cmd, ...args] = JSON.parse(process.argv[1]);",
      "spawn(cmd, args, { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });",
      `fs.writeFileSync('${CPU_DIR}/${hotpluggable.at(-1)}/online', '0');`,
      "console.log('offlined'); setInterval(() => {}, 1000);",
    ].join('\n');
    const child = spawn(process.execPath, ['-e', harness, JSON.stringify(watchdogCommand(restoreScript(state)))], { stdio: ['ignore', 'pipe', 'inherit'] });
    scope.register({ name: 'stand-in harness', kind: 'process', dispose: async () => void child.kill('SIGKILL') });
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
    expect(nproc()).toBe(before - 1);
    child.kill('SIGKILL');
    await pollUntil(async () => nproc(), (n) => n === before, { timeoutMs: 10_000, what: 'the watchdog to bring the CPU back' });
  });
});
