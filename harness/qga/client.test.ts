import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { GuestAgent } from './client.js';
import { AgentError, AgentSilentError } from './errors.js';

/**
 * A real qemu-ga, listening on a unix socket on this host. setVcpus and setTime are never called
 * here (they would change the host); the QEMU machine tests cover them on real guests.
 */
function startAgent(dir: string, socket = join(dir, 'qga.sock')): ResultPromise {
  return execa('/usr/sbin/qemu-ga', ['-m', 'unix-listen', '-p', socket, '-t', dir], { reject: false });
}

describe('GuestAgent against a real qemu-ga', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function agent(): Promise<{ agent: GuestAgent; dir: string }> {
    const dir = mkdtempSync(join(tmpdir(), 'bw-qga-'));
    const qga = startAgent(dir);
    cleanups.push(async () => {
      qga.kill('SIGKILL');
      await qga;
      rmSync(dir, { recursive: true, force: true });
    });
    const t0 = performance.now();
    const connected = await GuestAgent.connect(join(dir, 'qga.sock'), { timeoutMs: 10_000 });
    console.log(`agent connect+sync ${(performance.now() - t0).toFixed(1)} ms`);
    cleanups.push(() => connected.close());
    return { agent: connected, dir };
  }

  it('syncs, pings and describes itself', async () => {
    const { agent: a } = await agent();
    await a.ping();
    const info = await a.info();
    expect(info.version).toMatch(/^\d+\.\d+/);
    expect(info.supported_commands.map((c) => c.name)).toContain('guest-exec');
  });

  it('runs commands with stdout, stderr, exit code, input and environment', async () => {
    const { agent: a } = await agent();
    const t0 = performance.now();
    const ok = await a.exec(['/bin/true']);
    console.log(`agent exec of true ${(performance.now() - t0).toFixed(1)} ms`);
    expect(ok.exitCode).toBe(0);
    const result = await a.exec(['/bin/sh', '-c', 'cat; echo "$GREETING"; echo oops >&2; exit 7'], { input: 'from-stdin\n', env: { GREETING: 'hi', PATH: '/usr/bin:/bin' } });
    expect(result).toMatchObject({ exitCode: 7, stdout: 'from-stdin\nhi\n', stderr: 'oops\n', timedOut: false });
  });

  it('kills a command that outlives its timeout', async () => {
    const { agent: a } = await agent();
    const result = await a.exec(['/bin/sleep', '30'], { timeoutMs: 300 });
    expect(result.timedOut).toBe(true);
    expect(result.durationMs).toBeLessThan(5_000);
  });

  it('round-trips binary files larger than one chunk', async () => {
    const { agent: a, dir } = await agent();
    const data = Buffer.alloc(150_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 256;
    const path = join(dir, 'blob.bin');
    await a.writeFile(path, data, 0o640);
    expect((await a.readFile(path)).equals(data)).toBe(true);
    expect((await a.exec(['/usr/bin/stat', '-c', '%a', path])).stdout.trim()).toBe('640');
  });

  it('reads the time, vCPUs and memory blocks', async () => {
    const { agent: a } = await agent();
    const ns = await a.getTime();
    expect(Math.abs(Number(ns / 1_000_000n) - Date.now())).toBeLessThan(2_000);
    const vcpus = await a.getVcpus();
    expect(vcpus.length).toBeGreaterThan(0);
    expect(vcpus.map((v) => v['logical-id'])).toContain(0);
    const blocks = await a.getMemoryBlocks().catch((e: unknown) => e);
    if (blocks instanceof AgentError) expect(blocks.desc.length).toBeGreaterThan(0);
    else expect(Array.isArray(blocks)).toBe(true);
  });

  it('surfaces agent errors with their class', async () => {
    const { agent: a } = await agent();
    const error = await a.command('guest-no-such-command').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).agentClass).toBe('CommandNotFound');
    await a.ping();
  });

  it('skips stale replies: a late answer is never taken for the next one', async () => {
    const { agent: a, dir } = await agent();
    // Leave a reply in flight, then give up on it; the next call must resync past it.
    const late = a.command('guest-exec-status', { pid: 999_999 }, { timeoutMs: 0 }).catch((e: unknown) => e);
    await late;
    const info = await a.info();
    expect(info.version).toMatch(/\d/);
    // Bytes from another client that never read its answers do not disturb us either.
    const raw = createConnection(join(dir, 'qga.sock'));
    raw.on('error', () => undefined);
    raw.destroy();
    await a.ping();
  });

  it('keeps resending guest-sync until an agent that starts late answers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bw-qga-late-'));
    const socket = join(dir, 'qga.sock');
    let qga: ResultPromise | undefined;
    cleanups.push(async () => {
      qga?.kill('SIGKILL');
      await qga;
      rmSync(dir, { recursive: true, force: true });
    });
    const connecting = GuestAgent.connect(socket, { timeoutMs: 10_000 });
    setTimeout(() => (qga = startAgent(dir, socket)), 600);
    const a = await connecting;
    cleanups.push(() => a.close());
    await a.ping();
  });

  it('reports a silent agent as AgentSilentError', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bw-qga-silent-'));
    const socket = join(dir, 'silent.sock');
    const { createServer } = await import('node:net');
    const accepted: import('node:net').Socket[] = [];
    const server = createServer((peer) => accepted.push(peer)).listen(socket);
    cleanups.push(async () => {
      for (const peer of accepted) peer.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    });
    const error = await GuestAgent.connect(socket, { timeoutMs: 1_200 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentSilentError);
  });
});
