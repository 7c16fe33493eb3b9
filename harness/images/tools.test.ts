import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../core/deadline.js';
import { ResourceScope } from '../core/scope.js';
import { sharedLibraries } from './libraries.js';
import { ensureTools, type GuestTools } from './tools.js';

/** The static helpers are ordinary Linux programs: run them on the host. */
describe('guest tools on the host', () => {
  const scope = new ResourceScope('tools-test');
  let tools: GuestTools;
  let work: string;

  beforeAll(async () => {
    tools = await ensureTools();
    work = mkdtempSync(join(tmpdir(), 'bw-tools-'));
    scope.registerTempDir(work);
  }, 120_000);

  afterAll(async () => {
    expect(await scope.dispose()).toEqual([]);
  });

  it('are static and answer --help', async () => {
    for (const binary of Object.values(tools)) {
      expect(await sharedLibraries(binary), binary).toEqual([]);
      const help = await execa(binary, ['--help']);
      expect(help.stdout).toMatch(/^usage: /);
    }
  });

  it('a second ensureTools returns the same cached paths', async () => {
    expect(await ensureTools()).toEqual(tools);
  });

  it('bw-heartbeat writes numbered monotonic lines and starts once its path appears', async () => {
    const path = join(work, 'heartbeat');
    const beat = execa(tools.heartbeat, [path, '--interval-ms', '5'], { reject: false });
    scope.register({ name: 'bw-heartbeat', kind: 'process', dispose: async () => void (beat.kill('SIGKILL'), await beat), disposeSync: () => void beat.kill('SIGKILL') });
    // The path does not exist yet (like a port the host has not opened): the tool keeps going.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(beat.exitCode).toBeNull();
    writeFileSync(path, '');
    const lines = await pollUntil(
      async () => readFileSync(path, 'utf8').split('\n').filter(Boolean),
      (l) => l.length >= 10,
      { timeoutMs: 10_000, what: '10 heartbeat lines in the file' },
    );
    beat.kill('SIGTERM');
    const parsed = lines.map((line) => /^hb (\d+) (\d+) (\d+) (\d+)$/.exec(line));
    expect(parsed.every(Boolean)).toBe(true);
    // Each line says the pace it was written at: the interval asked for on the command line.
    expect(parsed.every((m) => m![4] === '5')).toBe(true);
    // Sequence numbers count beats, including those missed before the path existed.
    expect(Number(parsed[0]![1])).toBeGreaterThan(0);
    for (let i = 1; i < parsed.length; i++) {
      expect(Number(parsed[i]![1])).toBe(Number(parsed[i - 1]![1]) + 1);
      expect(BigInt(parsed[i]![2]!) > BigInt(parsed[i - 1]![2]!)).toBe(true);
    }
    const realtimeMs = Number(BigInt(parsed.at(-1)![3]!) / 1_000_000n);
    expect(Math.abs(realtimeMs - Date.now())).toBeLessThan(10_000);
  });

  it('bw-perf-probe prints one JSON line for cycles and instructions', async () => {
    const probe = await execa(tools.perfProbe);
    const result = JSON.parse(probe.stdout) as Record<string, { ok: boolean; count?: number; errno?: string }>;
    expect(Object.keys(result).sort()).toEqual(['cycles', 'instructions']);
    for (const counter of Object.values(result)) {
      if (counter.ok) expect(counter.count).toBeGreaterThan(0);
      else expect(counter.errno).toMatch(/^E[A-Z]+$|^errno \d+$/);
    }
  });

  it('bw-dirty-mem allocates, says ready and stops after --seconds', async () => {
    const started = performance.now();
    const run = await execa(tools.dirtyMem, ['--mib', '16', '--seconds', '1']);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/^dirty-mem ready/m);
    expect(performance.now() - started).toBeGreaterThan(900);
  });

  it('bw-mem-integrity keeps its pattern, names a page written behind its back, and stops on request', async () => {
    const dir = join(work, 'mem-integrity');
    const started = await execa(tools.memIntegrity, ['start', dir, '--mib', '8', '--rate-mib', '64', '--max-seconds', '60']);
    expect(started.stdout).toMatch(/^mem-integrity ready pid=\d+ pages=2048$/);
    const pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
    scope.register({ name: 'bw-mem-integrity', kind: 'process', dispose: async () => {
        await execa(tools.memIntegrity, ['stop', dir], { reject: false });
      }, disposeSync: () => void process.kill(pid, 'SIGKILL') });
    const verify = async (seq: number) => JSON.parse((await execa(tools.memIntegrity, ['verify', dir, String(seq), '10000'])).stdout) as Record<string, number | string>;
    const clean = await verify(1);
    expect(clean).toMatchObject({ seq: '1', pages: 2048, bad_pages: 0, total_bad: 0, first_bad_page: -1 });
    expect(Number(clean.writer_checked)).toBeGreaterThan(0);
    // Flip one byte of page 700 through /proc/PID/mem, as the host writes a guest's RAM.
    const located = /vaddr=0x([0-9a-f]+)/.exec((await execa(tools.memIntegrity, ['locate', dir, '700'])).stdout);
    const address = Number.parseInt(located![1]!, 16) + 77;
    const mem = openSync(`/proc/${pid}/mem`, 'r+');
    const byte = Buffer.alloc(1);
    readSync(mem, byte, 0, 1, address);
    byte[0] = byte[0]! ^ 0x5a;
    writeSync(mem, byte, 0, 1, address);
    closeSync(mem);
    const caught = await verify(2);
    expect(caught).toMatchObject({ bad_pages: 1, total_bad: 1, first_bad_page: 700, first_bad_word: 9 });
    expect(caught.first_bad_expected).not.toBe(caught.first_bad_found);
    // Repaired once reported: the next window is clean again, the total remembers.
    expect(await verify(3)).toMatchObject({ bad_pages: 0, total_bad: 1 });
    await execa(tools.memIntegrity, ['stop', dir]);
    expect(existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ')).toBe(false);
    const gone = await execa(tools.memIntegrity, ['verify', dir, '4', '1000'], { reject: false });
    expect(gone.exitCode).toBe(3);
    expect(gone.stderr).toMatch(/no daemon/);
  });
});
