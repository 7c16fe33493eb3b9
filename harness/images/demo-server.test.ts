import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDeadline } from '../core/deadline.js';
import { ResourceScope } from '../core/scope.js';
import { ensureTools } from './tools.js';

/** examples/demo-server is a normal Linux daemon: it runs on the host as in the guest. */
describe('demo-server on the host', () => {
  const scope = new ResourceScope('demo-server-test');
  let server: string;
  let work: string;
  let onlineCpus: number;

  beforeAll(async () => {
    server = (await ensureTools()).demoServer;
    work = mkdtempSync(join(tmpdir(), 'bw-demo-'));
    scope.registerTempDir(work);
    onlineCpus = Number((await execa('getconf', ['_NPROCESSORS_ONLN'])).stdout.trim());
  }, 120_000);

  afterAll(async () => {
    expect(await scope.dispose()).toEqual([]);
  });

  function start(args: string[]): { process: ResultPromise; lines: string[]; waitFor: (re: RegExp) => Promise<string> } {
    const child = execa(server, args, { reject: false, buffer: false });
    scope.register({ name: 'demo-server', kind: 'process', dispose: async () => void (child.kill('SIGKILL'), await child), disposeSync: () => void child.kill('SIGKILL') });
    const lines: string[] = [];
    const waiters: Array<{ re: RegExp; resolve: (line: string) => void }> = [];
    let partial = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        for (const w of waiters.filter((x) => x.re.test(line))) w.resolve(line);
      }
    });
    const waitFor = (re: RegExp): Promise<string> => {
      const seen = lines.find((l) => re.test(l));
      if (seen) return Promise.resolve(seen);
      return withDeadline(new Promise<string>((resolve) => waiters.push({ re, resolve })), 10_000, `a demo-server line matching ${re}`, () => lines.at(-1));
    };
    return { process: child, lines, waitFor };
  }

  it('sizes its pool to the online CPUs, answers the health check and stops cleanly on SIGTERM', async () => {
    const socket = join(work, 'demo.sock');
    const demo = start(['--socket', socket, '--heartbeat-ms', '100']);
    const ready = await demo.waitFor(/^demo-server ready/);
    expect(ready).toMatch(new RegExp(`^demo-server ready workers=${onlineCpus} cpus=${onlineCpus}\\b`));
    await demo.waitFor(new RegExp(`^demo-server alive t=\\d+ workers=${onlineCpus}$`));
    const health = await execa(server, ['--health', '--socket', socket]);
    expect(health.exitCode).toBe(0);
    expect(health.stdout.trim()).toBe(`ok workers=${onlineCpus}`);
    demo.process.kill('SIGTERM');
    const result = await demo.process;
    expect(result.exitCode).toBe(0);
    expect(demo.lines.at(-1)).toBe('demo-server stopped');
    const after = await execa(server, ['--health', '--socket', socket], { reject: false });
    expect(after.exitCode).toBe(1);
  });

  it('exits 0 by itself after --duration-s, having allocated --alloc-mib', async () => {
    const started = performance.now();
    const demo = start(['--socket', join(work, 'short.sock'), '--duration-s', '1', '--alloc-mib', '32', '--adaptive']);
    const result = await demo.process;
    expect(result.exitCode).toBe(0);
    expect(performance.now() - started).toBeGreaterThan(900);
    expect(demo.lines[0]).toMatch(/^demo-server ready workers=\d+ cpus=\d+/);
  });

  it('rejects an unknown argument with exit code 2', async () => {
    const result = await execa(server, ['--bogus'], { reject: false });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('--bogus');
  });
});
