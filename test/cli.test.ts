import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunRecord } from '../harness/report/run-record.js';
import { onlyRunDir, privateRunDir, qemusWith, readJson, runCli, workspace } from './cli-helpers.js';

/** The CLI as users run it: real QEMU guests, real processes, real signals. */
describe('bothworlds run', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  it('classifies outcomes: app exit 1 is failed, a model that needs KVM is skipped with the reason; reports in four formats', async () => {
    const ws = workspace(
      (tag) => `name: outcomes
app: {command: [sh, -c, 'echo case=$BW_AXIS_CASE; test "$BW_AXIS_CASE" = ok'], timeout: 30s}
defaults: {memory: 256M, run: "${tag}", accel: tcg}
axes:
  cpu: [max, host-passthrough]
  case: [ok, fail]
exclude: [{cpu: host-passthrough, case: fail}]
timeout: 120s
`,
    );
    cleanups.push(ws.cleanup);
    const run = await runCli(['run', ws.file, '--reports', ws.reports, '--plain']);
    expect(run.exitCode, run.all).toBe(1);
    const dir = onlyRunDir(ws.reports);
    const record = readJson<RunRecord>(join(dir, 'results.json'));
    const outcome = (cpu: string, c: string) => record.cells.find((x) => x.axes.cpu === cpu && x.axes.case === c);
    expect(outcome('max', 'ok')!.outcome).toBe('passed');
    expect(outcome('max', 'fail')!.outcome).toBe('failed');
    expect(outcome('max', 'fail')!.reason).toMatch(/exited with code 1, expected 0/);
    expect(outcome('host-passthrough', 'ok')!.outcome).toBe('skipped');
    expect(outcome('host-passthrough', 'ok')!.reason).toMatch(/requires KVM/);
    for (const file of ['results.jsonl', 'results.json', 'junit.xml', 'summary.md', 'index.html']) expect(existsSync(join(dir, file))).toBe(true);
    expect(await qemusWith(ws.tag)).toEqual([]);
  });

  it('records a QEMU killed mid-cell as an infrastructure error (exit 3), not an application failure', async () => {
    const ws = workspace((tag) => `name: crash\napp: {command: [sleep, "30"], timeout: 60s}\ndefaults: {memory: 256M, run: "${tag}"}\ntimeout: 120s\n`);
    cleanups.push(ws.cleanup);
    const run = runCli(['run', ws.file, '--reports', ws.reports, '--plain', '--no-snapshot']);
    let pids: number[] = [];
    for (let i = 0; i < 600 && pids.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      pids = await qemusWith(ws.tag);
    }
    expect(pids.length).toBeGreaterThan(0);
    // Let the guest boot and the app start, then pull the rug.
    await new Promise((r) => setTimeout(r, 4_000));
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    const result = await run;
    expect(result.exitCode, result.all).toBe(3);
    const record = readJson<RunRecord>(join(onlyRunDir(ws.reports), 'results.json'));
    expect(record.cells[0]!.outcome).toBe('error');
    expect(record.cells[0]!.error?.code).toMatch(/QEMU_EXITED|QGA|QMP/);
  });

  it('survives a SIGKILLed harness: no QEMU left, valid results, --resume runs only what is missing', async () => {
    const ws = workspace((tag) => `name: resume\napp: {command: [sleep, "2"], timeout: 60s}\ndefaults: {memory: 256M, run: "${tag}"}\naxes: {n: [1, 2, 3]}\ntimeout: 120s\n`);
    cleanups.push(ws.cleanup);
    const runDir = privateRunDir(ws.dir);
    const env = { BOTHWORLDS_RUN_DIR: runDir.dir };
    const first = runCli(['run', ws.file, '--reports', ws.reports, '--plain', '--concurrency', '1'], { env });
    let dir: string | undefined;
    for (let i = 0; i < 1200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      try {
        dir = onlyRunDir(ws.reports);
        if (readFileSync(join(dir, 'results.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"type":"cell"')).length >= 1) break;
      } catch {
        // not there yet
      }
    }
    first.kill('SIGKILL');
    await first;
    await new Promise((r) => setTimeout(r, 500));
    expect(await qemusWith(ws.tag)).toEqual([]);
    // A SIGKILLed process cannot clean up its temp root; the next run sweeps it (its lock is gone).
    const leftBehind = runDir.roots();
    expect(leftBehind).toHaveLength(1);
    const resumed = await runCli(['run', ws.file, '--reports', ws.reports, '--plain', '--resume', dir!], { env });
    expect(resumed.exitCode, resumed.all).toBe(0);
    expect(resumed.all).toMatch(/resuming: 1 cell\(s\) already finished, 2 to run/);
    expect(runDir.roots().filter((name) => leftBehind.includes(name))).toEqual([]);
    const record = readJson<RunRecord>(join(dir!, 'results.json'));
    expect(record.cells.map((c) => c.outcome)).toEqual(['passed', 'passed', 'passed']);
  });

  it('leaves no QEMU behind when the harness is SIGKILLed mid-boot', async () => {
    const ws = workspace((tag) => `name: midboot\napp: {command: [sleep, "1"]}\ndefaults: {memory: 256M, run: "${tag}"}\ntimeout: 120s\n`);
    cleanups.push(ws.cleanup);
    const runDir = privateRunDir(ws.dir);
    const env = { BOTHWORLDS_RUN_DIR: runDir.dir };
    const run = runCli(['run', ws.file, '--reports', ws.reports, '--plain', '--no-snapshot'], { env });
    for (let i = 0; i < 600 && (await qemusWith(ws.tag)).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await qemusWith(ws.tag)).length).toBeGreaterThan(0);
    run.kill('SIGKILL');
    await run;
    // QEMU runs under setpriv --pdeathsig KILL: it dies with the harness, whatever state it was in.
    for (let i = 0; i < 40 && (await qemusWith(ws.tag)).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await qemusWith(ws.tag)).toEqual([]);
    // Its temp root cannot go with it; the next bothworlds command sweeps it.
    expect(runDir.roots()).toHaveLength(1);
    await runCli(['list', ws.file], { env });
    expect(runDir.roots()).toEqual([]);
  });

  it('stops gracefully on Ctrl+C: running cells recorded as interrupted, exit 130, nothing left behind', async () => {
    const ws = workspace((tag) => `name: interrupt\napp: {command: [sleep, "60"], timeout: 90s}\ndefaults: {memory: 256M, run: "${tag}"}\ntimeout: 120s\n`);
    cleanups.push(ws.cleanup);
    const run = runCli(['run', ws.file, '--reports', ws.reports, '--plain']);
    for (let i = 0; i < 600 && (await qemusWith(ws.tag)).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 3_000));
    run.kill('SIGINT');
    const result = await run;
    expect(result.exitCode, result.all).toBe(130);
    const record = readJson<RunRecord>(join(onlyRunDir(ws.reports), 'results.json'));
    expect(record.interrupted).toBe(true);
    expect(record.cells[0]!.outcome).toBe('interrupted');
    expect(await qemusWith(ws.tag)).toEqual([]);
  });

  it('rejects a broken matrix with file:line:column, exit 2, and starts no VM', async () => {
    const ws = workspace((tag) => `name: broken\napp: {command: [sleep, "1"]}\ndefaults: {run: "${tag}"}\naxes: {vcpus: [1, zero]}\n`);
    cleanups.push(ws.cleanup);
    const run = await runCli(['run', ws.file, '--reports', ws.reports]);
    expect(run.exitCode).toBe(2);
    expect(run.all).toMatch(new RegExp(`${ws.file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:4:\\d+: vcpus must be a whole number`));
    expect(existsSync(ws.reports)).toBe(false);
  });
});
