import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import type { Client } from 'ssh2';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ResourceScope } from '../../core/scope.js';
import { pollUntil } from '../../core/deadline.js';
import type { StartedMachine } from '../machine.js';
import { startLocalMachine } from '../local/index.js';
import { connectSshMachine } from '../ssh/index.js';
import { startTestSshd, type TestSshd } from '../ssh/testing/test-sshd.js';
import { HOST_CPU_LOCK, createHostCpuControl, readCpuState, restoreScript } from './cpu-hotplug.js';
import { watchdogCommand, type HostShell } from './shell.js';

/*
 * Every test that changes this host's CPUs lives in this one file, so they run one after another;
 * the control's host lock (HOST_CPU_LOCK) keeps other files' cells out meanwhile.
 */
const CPU_DIR = '/sys/devices/system/cpu';
const isRoot = process.getuid?.() === 0;
const hotpluggable = readdirSync(CPU_DIR).filter((d) => /^cpu\d+$/.test(d) && d !== 'cpu0' && existsSync(join(CPU_DIR, d, 'online')));
const canOffline = isRoot && hotpluggable.length > 0;
const TEST_CPUSET = `/sys/fs/cgroup/cpuset/bw-physical-test-${process.pid}`;

function nproc(): number {
  return Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
}

/** Take the host's CPU lock the way the control does. */
async function lockHostCpus(timeoutMs = 120_000): Promise<boolean> {
  const started = performance.now();
  for (;;) {
    try {
      mkdirSync(HOST_CPU_LOCK);
      return true;
    } catch {
      if (performance.now() - started > timeoutMs) return false;
      await sleep(100);
    }
  }
}

/** Wait until nobody holds the lock and every CPU is online, so `before` counts are true. */
async function settledHost(): Promise<number> {
  await pollUntil(async () => !existsSync(HOST_CPU_LOCK) && nproc() === hotpluggable.length + 1, Boolean, { timeoutMs: 120_000, intervalMs: 100, what: 'the host CPU lock to be free and all CPUs online' });
  return nproc();
}

/** Unconditional last line of defence: every CPU online, recorded cpusets back, test cpuset gone. */
const cpusetsBefore = new Map<string, string>();
async function restoreEverything(): Promise<void> {
  const locked = await lockHostCpus(60_000);
  try {
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
  } finally {
    if (locked) rmdirSync(HOST_CPU_LOCK);
  }
}

describe('physical CPU offline/online, always restored', () => {
  const suite = new ResourceScope('cpu-hotplug-test');
  let scope: ResourceScope;
  let machine: StartedMachine;
  let sshd: TestSshd;

  beforeAll(async () => {
    if (existsSync('/sys/fs/cgroup/cpuset')) {
      for (const entry of readdirSync('/sys/fs/cgroup/cpuset')) {
        const file = join('/sys/fs/cgroup/cpuset', entry, 'cpuset.cpus');
        if (existsSync(file)) cpusetsBefore.set(file, readFileSync(file, 'utf8').trim());
      }
    }
    sshd = await startTestSshd(suite);
  });
  afterEach(async () => {
    await scope?.dispose();
  });
  afterAll(async () => {
    await suite.dispose();
    await restoreEverything();
  });

  const start = async (): Promise<StartedMachine> => {
    scope = suite.child('local');
    machine = await startLocalMachine({ scope, name: 'cpu-test' });
    return machine;
  };

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
    await settledHost();
    mkdirSync(TEST_CPUSET);
    writeFileSync(join(TEST_CPUSET, 'cpuset.cpus'), readFileSync('/sys/fs/cgroup/cpuset/cpuset.cpus', 'utf8').trim());
    writeFileSync(join(TEST_CPUSET, 'cpuset.mems'), readFileSync('/sys/fs/cgroup/cpuset/cpuset.mems', 'utf8').trim());
    const cpusetBefore = readFileSync(join(TEST_CPUSET, 'cpuset.cpus'), 'utf8').trim();
    await start();
    const before = await settledHost();

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
    const before = await settledHost();
    await machine.controls.cpus!.unplug();
    expect(nproc()).toBe(before - 1);
    scope.disposeSync();
    expect(nproc()).toBe(before);
  });

  it.skipIf(!canOffline)('the watchdog restores CPUs when the harness is SIGKILLed', async () => {
    await settledHost();
    expect(await lockHostCpus()).toBe(true); // released by the watchdog's restore script
    const state = await readCpuState((await start()) as unknown as HostShell);
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
    await pollUntil(async () => existsSync(HOST_CPU_LOCK), (held) => !held, { timeoutMs: 5_000, what: 'the watchdog to release the host CPU lock' });
  });
  it.skipIf(!canOffline)('offlines a CPU over SSH; the host-side watchdog brings it back when the connection drops', async () => {
    const scope = suite.child('cpu');
    const cpuMachine = await connectSshMachine(sshd.host, { scope });
    const before = await settledHost();
    const ack = await cpuMachine.controls.cpus!.unplug();
    expect(ack.detail).toMatchObject({ online: false });
    expect(nproc()).toBe(before - 1);
    expect((await cpuMachine.facts()).onlineCpus).toBe(before - 1);
    // A dropped connection (harness killed, network gone): nobody runs the scope's teardown.
    ((cpuMachine as unknown as { client: Client }).client).destroy();
    expect(await cpuMachine.lost).toMatchObject({ code: 'SSH_LOST' });
    await expect(cpuMachine.exec(['true'])).rejects.toMatchObject({ code: 'SSH_LOST', category: 'infrastructure' });
    await pollUntil(async () => nproc(), (n) => n === before, { timeoutMs: 10_000, what: 'the watchdog to online the CPU' });
    await scope.dispose(); // errors expected (the connection is gone); must not hang
  });

  it.skipIf(!canOffline)('restores CPUs over SSH at the end of the cell', async () => {
    const scope = suite.child('cpu2');
    const cpuMachine = await connectSshMachine(sshd.host, { scope });
    const before = await settledHost();
    await cpuMachine.controls.cpus!.unplug();
    expect(nproc()).toBe(before - 1);
    await cpuMachine.stop();
    expect(nproc()).toBe(before);
  });
  it.skipIf(!canOffline)('a second cell waits for the host lock until the first cell restored its CPUs', async () => {
    const before = await settledHost();
    const first = suite.child('first');
    const second = suite.child('second');
    const a = await startLocalMachine({ scope: first });
    const b = await startLocalMachine({ scope: second });
    await a.controls.cpus!.unplug();
    let secondDone = false;
    const waiting = b.controls.cpus!.unplug().then((ack) => ((secondDone = true), ack));
    await sleep(1_000);
    expect(secondDone).toBe(false); // it did not record the first cell's shrunk state as "before"
    expect(nproc()).toBe(before - 1);
    await first.dispose();
    await waiting;
    expect(nproc()).toBe(before - 1);
    await second.dispose();
    expect(nproc()).toBe(before);
    expect(existsSync(HOST_CPU_LOCK)).toBe(false);
  });

});

describe('the project\'s physical event kinds on this host', () => {
  const suite = new ResourceScope('physical-events-test');
  afterAll(async () => {
    await suite.dispose();
    await restoreEverything();
  });

  it.skipIf(!canOffline)('cpu-offline and cpu-online run on the local machine, seen through its facts', async () => {
    const { cpuOffline } = await import('../../inject/cpu-offline.js');
    const { cpuOnline } = await import('../../inject/cpu-online.js');
    const before = await settledHost();
    const scope = suite.child('events');
    const machine = await startLocalMachine({ scope });
    const signal = new AbortController().signal;
    const off = await cpuOffline.run({ machine, params: {}, signal });
    expect(off.metrics.cpus_after!.value).toBe(before - 1);
    expect(off.observedAt! - off.acknowledgedAt!).toBeLessThan(5_000);
    const on = await cpuOnline.run({ machine, params: {}, signal });
    expect(on.acknowledgedAt).toBeGreaterThan(0);
    expect(nproc()).toBe(before);
    await scope.dispose();
    expect(existsSync(HOST_CPU_LOCK)).toBe(false);
  });

  it('memory-pressure runs on the SSH machine and the host sees MemAvailable drop', async () => {
    const { memoryPressure } = await import('../../inject/memory-pressure.js');
    const sshd = await startTestSshd(suite);
    const machine = await connectSshMachine(sshd.host, { scope: suite.child('ssh-events') });
    const outcome = await memoryPressure.run({ machine, params: { size: '128MiB', duration: '200ms' }, signal: new AbortController().signal });
    const drop = outcome.metrics.memavailable_before_kib!.value - outcome.metrics.memavailable_during_kib!.value;
    console.log(`memory-pressure 128 MiB over SSH: MemAvailable dropped by ${(drop / 1024).toFixed(0)} MiB`);
    expect(drop).toBeGreaterThan(64 * 1024); // other tests allocate too: only a clear drop is asserted
  });
});
