import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { localContainment } from '../../core/cgroup.js';
import { pollUntil, withDeadline } from '../../core/deadline.js';
import type { RunRecord } from '../../report/run-record.js';
import { onlyRunDir, readJson, runCli, workspace } from '../../../test/cli-helpers.js';
import { execa } from 'execa';

const containment = localContainment();

function marker(): string {
  return `1000.${Math.floor(Math.random() * 1e9)}`;
}

async function pidsOf(duration: string): Promise<number[]> {
  const result = await execa('pgrep', ['-x', '-f', `sleep ${duration}`], { reject: false });
  return result.stdout.split('\n').filter(Boolean).map(Number);
}

/** A double fork into a new session that lets go of the output (so the cell's first process can end). */
const escape = (duration: string) => `(setsid sleep ${duration} </dev/null >/dev/null 2>&1 &)`;

/** `bothworlds run` on this host, as users run it, with an application that leaves its process group. */
describe.runIf(containment.kind === 'cgroup')('bothworlds run: local applications that call setsid', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });
  const killLeft = (duration: string) => async () => {
    for (const pid of await pidsOf(duration)) process.kill(pid, 'SIGKILL');
  };

  it('after the cell ends, nothing it started remains', async () => {
    const duration = marker();
    const ws = workspace((tag) => `name: escape\napp: {command: [sh, -c, '${escape(duration)}; echo started'], timeout: 30s}\ndefaults: {backend: local, run: "${tag}"}\n`);
    cleanups.push(ws.cleanup, killLeft(duration));
    const run = await runCli(['run', ws.file, '--reports', ws.reports, '--plain']);
    expect(run.exitCode, run.all).toBe(0);
    const record = readJson<RunRecord>(join(onlyRunDir(ws.reports), 'results.json'));
    expect(record.cells[0]!.outcome).toBe('passed');
    expect(record.environment.localContainment).toMatch(/^cgroup v2: each application in its own cgroup/);
    expect(await pidsOf(duration)).toEqual([]);
  });

  /** A run whose cell's application has escaped into a new session; returns once it has. */
  async function runWithEscapee(ignoreTerm = false) {
    const duration = marker();
    const ws = workspace(
      (tag) => `name: escape-int\napp: {command: [sh, -c, '${ignoreTerm ? 'trap "" TERM; ' : ''}${escape(duration)}; exec sleep 60'], timeout: 90s}\ndefaults: {backend: local, run: "${tag}"}\n`,
    );
    cleanups.push(ws.cleanup, killLeft(duration));
    const run = runCli(['run', ws.file, '--reports', ws.reports, '--plain']);
    const [escapee] = await pollUntil(
      () => pidsOf(duration),
      (pids) => pids.length === 1,
      { timeoutMs: 30_000, intervalMs: 50, what: `the cell's escaped sleep ${duration}` },
    );
    const cgroup = join(
      containment.kind === 'cgroup' ? containment.mount : '',
      readFileSync(`/proc/${escapee}/cgroup`, 'utf8')
        .split('\n')
        .find((l) => l.startsWith('0::'))!
        .slice(3),
    );
    expect(cgroup).toMatch(/\/bothworlds-[^/]+$/);
    return { ws, run, duration, cgroup };
  }

  it('a second Ctrl+C (forced, synchronous teardown): cgroup.kill at exit, the reaper removes the cgroup', async () => {
    // The application ignores SIGTERM, so the graceful teardown sits out its 2 s grace: time for the
    // second Ctrl+C, sent once the first was handled (two pending SIGINTs would merge into one).
    const { run, duration, cgroup } = await runWithEscapee(true);
    const firstHandled = new Promise<void>((resolve) => run.all!.on('data', (chunk: Buffer) => chunk.toString().includes('SIGINT: stopping running cells') && resolve()));
    run.kill('SIGINT');
    await withDeadline(firstHandled, 10_000, 'the harness to report the first SIGINT');
    run.kill('SIGINT');
    const result = await run;
    expect(result.exitCode, result.all).toBe(130);
    expect(result.all).toContain('second SIGINT, forcing teardown');
    await pollUntil(
      () => pidsOf(duration),
      (pids) => pids.length === 0,
      { timeoutMs: 5_000, intervalMs: 25, what: `sleep ${duration} to die` },
    );
    await pollUntil(
      async () => existsSync(cgroup),
      (exists) => !exists,
      { timeoutMs: 10_000, intervalMs: 25, what: `the reaper to remove ${cgroup}` },
    );
  });

  it('Ctrl+C mid-cell: exit 130, the escaped process is killed and its cgroup removed', async () => {
    const { ws, run, duration, cgroup } = await runWithEscapee();
    run.kill('SIGINT');
    const result = await run;
    expect(result.exitCode, result.all).toBe(130);
    expect(readJson<RunRecord>(join(onlyRunDir(ws.reports), 'results.json')).cells[0]!.outcome).toBe('interrupted');
    expect(await pidsOf(duration)).toEqual([]);
    expect(existsSync(cgroup)).toBe(false);
  });
});
