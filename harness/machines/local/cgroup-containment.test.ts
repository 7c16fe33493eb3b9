import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cgroupName, createCgroup, CGROUP_ENV, describeContainment, localContainment, removeCgroup } from '../../core/cgroup.js';
import { sweepOrphanCgroups } from '../../core/cgroup-sweep.js';
import { pollUntil } from '../../core/deadline.js';
import { projectRoot } from '../../core/project-root.js';
import { ResourceScope } from '../../core/scope.js';
import { ownerToken } from '../../core/temp-dir.js';
import { enterCgroupCommand } from './contained-spawn.js';
import { startLocalMachine } from './index.js';
import { spawnLocal } from './local-process.js';

const DIST = join(projectRoot(), 'dist', 'harness');

/** A `sleep` with a duration nobody else uses: pgrep finds exactly it. */
function marker(): string {
  return `1000.${Math.floor(Math.random() * 1e9)}`;
}

async function pidsOf(duration: string): Promise<number[]> {
  const result = await execa('pgrep', ['-x', '-f', `sleep ${duration}`], { reject: false });
  return result.stdout.split('\n').filter(Boolean).map(Number);
}

/** Double fork into a new session (setsid), the escapee keeping the output pipes; then report it. */
function escapingApp(duration: string): string[] {
  return ['sh', '-c', `(setsid sleep ${duration} &); echo ready; exec sleep 300`];
}

function cgroupOf(pid: number): string {
  return readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('0::'))!
    .slice(3);
}

const gone = (duration: string, what: string) =>
  pollUntil(
    () => pidsOf(duration),
    (pids) => pids.length === 0,
    { timeoutMs: 10_000, intervalMs: 25, what },
  );

const containment = localContainment();
const inCgroup = containment.kind === 'cgroup';

describe('local applications that leave their process group (cgroup v2)', () => {
  const leftovers: string[] = [];
  let scope: ResourceScope | undefined;
  beforeAll(() => {
    console.log(`containment here: ${describeContainment()}`);
  });
  afterEach(async () => {
    await scope?.dispose();
    delete process.env[CGROUP_ENV];
    for (const duration of leftovers.splice(0)) for (const pid of await pidsOf(duration)) process.kill(pid, 'SIGKILL');
  });

  it.runIf(inCgroup)('a setsid double fork dies with the cell, and its cgroup is removed', async () => {
    const duration = marker();
    leftovers.push(duration);
    scope = new ResourceScope('escape');
    const machine = await startLocalMachine({ scope, name: 'escape' });
    const app = await machine.spawn(escapingApp(duration));
    await machine.output.waitForLine(/^ready$/, 10_000, 'app');
    const [escapee] = await pollUntil(
      () => pidsOf(duration),
      (pids) => pids.length === 1,
      { timeoutMs: 5_000, what: `the escaped sleep ${duration}` },
    );
    // It did leave the application's session and process group, but not its cgroup.
    const stat = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    expect(stat(escapee!)[3]).not.toBe(String(app.pid));
    const cgroup = join((containment as { mount: string }).mount, cgroupOf(escapee!));
    expect(cgroupOf(app.pid)).toBe(cgroupOf(escapee!));
    expect(cgroup).toMatch(/\/bothworlds-[A-Za-z0-9_-]+\.[0-9a-f]{12}$/);
    await machine.stop();
    expect(await pidsOf(duration)).toEqual([]);
    expect(existsSync(cgroup)).toBe(false);
  });

  it.runIf(inCgroup)('kill() of the application reaches the escapee too, and does not wait for the pipes it holds', async () => {
    const duration = marker();
    leftovers.push(duration);
    scope = new ResourceScope('escape-kill');
    const machine = await startLocalMachine({ scope, name: 'escape-kill' });
    const app = await machine.spawn(['sh', '-c', `(setsid sleep ${duration} &); echo ready; exit 0`]);
    await machine.output.waitForLine(/^ready$/, 10_000, 'app');
    await pollUntil(
      () => pidsOf(duration),
      (pids) => pids.length === 1,
      { timeoutMs: 5_000, what: `the escaped sleep ${duration}` },
    );
    const t0 = performance.now();
    await app.kill('TERM');
    expect(performance.now() - t0).toBeLessThan(1_500); // the leader had exited: no grace to sit out
    expect(await pidsOf(duration)).toEqual([]);
    expect((await app.wait(1_000)).exitCode).toBe(0);
  });

  it.runIf(inCgroup)('kill -9 of the harness: the reaper kills the cgroup and removes it', async () => {
    const { harness, cgroup, duration } = await standInHarness();
    leftovers.push(duration);
    harness.kill('SIGKILL');
    await harness;
    await gone(duration, `sleep ${duration} to die after the harness was SIGKILLed`);
    await pollUntil(
      async () => existsSync(cgroup),
      (exists) => !exists,
      { timeoutMs: 10_000, what: `the reaper to remove ${cgroup}` },
    );
  });

  it.runIf(inCgroup)('kill -9 of the harness and its reaper: the next start sweeps the cgroup', async () => {
    const { harness, cgroup, duration } = await standInHarness();
    leftovers.push(duration);
    const reapers = await execa('pgrep', ['-f', `bw-reaper cgroup ${cgroup}`], { reject: false });
    expect(reapers.stdout.split('\n').filter(Boolean)).toHaveLength(1);
    process.kill(Number(reapers.stdout), 'SIGKILL');
    harness.kill('SIGKILL');
    await harness;
    // The first process had a parent-death signal; the escapee had nothing but its cgroup.
    expect(await pidsOf(duration)).toHaveLength(1);
    const removed = await sweepOrphanCgroups();
    expect(removed).toContain(cgroup);
    expect(await pidsOf(duration)).toEqual([]);
    expect(existsSync(cgroup)).toBe(false);
  });

  it.runIf(inCgroup)('a process that cannot enter its cgroup never runs the application', async () => {
    const gone = createCgroup((containment as { parent: string }).parent, cgroupName(ownerToken()));
    removeCgroup(gone);
    const child = await spawnLocal(enterCgroupCommand(gone, ['sh', '-c', 'echo the application ran']));
    const result = await child.wait(5_000);
    expect(result.exitCode).toBe(125);
    expect(result.stderr).toContain(`bothworlds: could not enter cgroup ${gone}/cgroup.procs`);
    expect(result.stdout).toBe('');
  });

  it.runIf(inCgroup)("the sweep leaves a live harness's cgroup alone", async () => {
    const cgroup = createCgroup((containment as { parent: string }).parent, cgroupName(ownerToken()));
    try {
      expect(await sweepOrphanCgroups()).not.toContain(cgroup);
      expect(existsSync(cgroup)).toBe(true);
    } finally {
      removeCgroup(cgroup);
    }
  });

  it.runIf(inCgroup)('cost per cell: cgroup create+remove, and an application started and torn down in each mode', async () => {
    const parent = (containment as { parent: string }).parent;
    const bare: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now();
      removeCgroup(createCgroup(parent, cgroupName(ownerToken())));
      bare.push(performance.now() - t0);
    }
    const lifecycle = { cgroup: [] as number[], 'process-group': [] as number[] };
    for (let i = 0; i < 12; i++) {
      for (const mode of ['cgroup', 'process-group'] as const) {
        if (mode === 'process-group') process.env[CGROUP_ENV] = 'off';
        else delete process.env[CGROUP_ENV];
        scope = new ResourceScope('cost');
        const machine = await startLocalMachine({ scope, name: 'cost' });
        const t0 = performance.now();
        const app = await machine.spawn(['true']);
        expect((await app.wait(5_000)).exitCode).toBe(0);
        await machine.stop();
        lifecycle[mode].push(performance.now() - t0);
        await scope.dispose();
      }
    }
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!.toFixed(2);
    console.log(
      `cost per cell: cgroup mkdir+rmdir median ${median(bare)} ms (n=${bare.length}); app start+exit+teardown median ${median(lifecycle.cgroup)} ms in a cgroup vs ${median(lifecycle['process-group'])} ms with a process group (n=${lifecycle.cgroup.length} each)`,
    );
    expect(Number(median(bare))).toBeLessThan(50);
  });

  it(`the fallback (${CGROUP_ENV}=off): the process group is killed, a setsid escapee is not (the documented limit)`, async () => {
    process.env[CGROUP_ENV] = 'off';
    expect(describeContainment()).toMatch(/^process group only \(BOTHWORLDS_LOCAL_CGROUP=off\)/);
    const [stays, escapes] = [marker(), marker()];
    leftovers.push(stays, escapes);
    scope = new ResourceScope('fallback');
    const machine = await startLocalMachine({ scope, name: 'fallback' });
    await machine.spawn(['sh', '-c', `sleep ${stays} & (setsid sleep ${escapes} </dev/null >/dev/null 2>&1 &); echo ready; exec sleep 300`]);
    await machine.output.waitForLine(/^ready$/, 10_000, 'app');
    await pollUntil(
      () => pidsOf(escapes),
      (pids) => pids.length === 1,
      { timeoutMs: 5_000, what: `the escaped sleep ${escapes}` },
    );
    const [escapee] = await pidsOf(escapes);
    expect(cgroupOf(escapee!)).not.toMatch(/bothworlds-/); // no cgroup was made
    await machine.stop();
    expect(await pidsOf(stays)).toEqual([]);
    expect(await pidsOf(escapes)).toHaveLength(1);
  });
});

/** A harness in its own process, running one escaping application; SIGKILLed by the tests. */
async function standInHarness() {
  const duration = marker();
  const script = `const { startLocalMachine } = await import(${JSON.stringify(join(DIST, 'machines', 'local', 'index.js'))});
const { ResourceScope } = await import(${JSON.stringify(join(DIST, 'core', 'scope.js'))});
const m = await startLocalMachine({ scope: new ResourceScope('kill9'), name: 'kill9' });
await m.spawn(${JSON.stringify(escapingApp(duration))});
await m.output.waitForLine(/^ready$/, 10000, 'app');
console.log('started');
setInterval(() => {}, 1000);`;
  const harness = execa(process.execPath, ['--input-type=module', '-e', script], { reject: false });
  await new Promise<void>((resolve, reject) => {
    harness.stdout!.on('data', () => resolve());
    harness.then((r) => reject(new Error(`the stand-in harness exited: ${r.stderr}`)), reject);
  });
  const [escapee] = await pollUntil(
    () => pidsOf(duration),
    (pids) => pids.length === 1,
    { timeoutMs: 5_000, what: `the escaped sleep ${duration}` },
  );
  const cgroup = join((localContainment() as { mount: string }).mount, cgroupOf(escapee!));
  expect(cgroup).toMatch(/\/bothworlds-/);
  return { harness, cgroup, duration };
}
