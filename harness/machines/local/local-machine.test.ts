import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ResourceScope } from '../../core/scope.js';
import type { StartedMachine } from '../machine.js';
import { startLocalMachine } from './index.js';

// CPU offline/online tests of this backend live in ../hosts/cpu-hotplug.test.ts (one file, run in order).
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function nproc(): number {
  return Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
}

describe('local machine', () => {
  let scope: ResourceScope;
  let machine: StartedMachine;

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
});
