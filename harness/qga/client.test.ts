import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { DeadlineError } from '../core/errors.js';
import { ResourceScope } from '../core/scope.js';
import { registeredTempDir, startHostAgent, startQemu } from '../qmp/test-support.js';
import { QmpClient } from '../qmp/client.js';
import { GuestAgent } from './client.js';
import { AgentDisconnectedError, AgentError, AgentSilentError } from './errors.js';

/**
 * A real qemu-ga, listening on a unix socket on this host. setVcpus and setTime are never called
 * here (they would offline this host's CPUs or change its clock); the QEMU machine tests cover
 * them on real guests.
 */
describe('GuestAgent against a real qemu-ga', () => {
  let scope = new ResourceScope('qga-test');
  afterEach(async () => {
    const errors = await scope.dispose();
    scope = new ResourceScope('qga-test');
    expect(errors).toEqual([]);
  });

  async function agent(): Promise<{ agent: GuestAgent; dir: string; qga: ReturnType<typeof startHostAgent>['qga'] }> {
    const dir = registeredTempDir(scope, 'bw-qga-');
    const { socket, qga } = startHostAgent(scope, dir);
    const t0 = performance.now();
    const connected = await GuestAgent.connect(socket, { timeoutMs: 10_000 });
    console.log(`agent connect+sync ${(performance.now() - t0).toFixed(1)} ms (includes qemu-ga start)`);
    scope.register({ name: `agent ${socket}`, kind: 'socket', dispose: () => connected.close() });
    return { agent: connected, dir, qga };
  }

  it('syncs, pings and describes itself', async () => {
    const { agent: a } = await agent();
    const t0 = performance.now();
    await a.sync();
    const syncMs = performance.now() - t0;
    await a.ping();
    const info = await a.info();
    expect(info.version).toMatch(/^\d+\.\d+/);
    expect(info.supported_commands.map((c) => c.name)).toContain('guest-exec');
    console.log(`agent sync round trip ${syncMs.toFixed(2)} ms`);
  });

  it('runs commands with stdout, stderr, exit code, input and environment', async () => {
    const { agent: a } = await agent();
    const t0 = performance.now();
    const ok = await a.exec(['/bin/true']);
    console.log(`agent exec of true ${(performance.now() - t0).toFixed(1)} ms`);
    expect(ok).toMatchObject({ command: ['/bin/true'], exitCode: 0, stdout: '', stderr: '', timedOut: false });
    const result = await a.exec(['/bin/sh', '-c', 'cat; echo "$GREETING"; echo oops >&2; exit 7'], { input: 'from-stdin\n', env: { GREETING: 'hi', PATH: '/usr/bin:/bin' } });
    expect(result).toMatchObject({ exitCode: 7, stdout: 'from-stdin\nhi\n', stderr: 'oops\n', timedOut: false });
    const signalled = await a.exec(['/bin/sh', '-c', 'kill -TERM $$']);
    expect(signalled).toMatchObject({ exitCode: null, signal: 'SIGTERM', timedOut: false });
  });

  it('reports a program that cannot start as an AgentError', async () => {
    const { agent: a } = await agent();
    const error = await a.exec(['/no/such/program']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect((error as AgentError).desc).toMatch(/no\/such\/program|No such file/);
    await a.ping();
  });

  it('kills a command that outlives its timeout, with everything it started, and keeps its output', async () => {
    const { agent: a } = await agent();
    const marker = `${(Date.now() % 1000) + 30}.4321`; // a unique sleep to look for
    const result = await a.exec(['/bin/sh', '-c', `echo started; sleep ${marker}; echo never`], { timeoutMs: 400 });
    expect(result).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGKILL', stdout: 'started\n' });
    expect(result.durationMs).toBeLessThan(3_000);
    const left = await execa('pgrep', ['-f', `sleep ${marker}`], { reject: false });
    expect(left.stdout).toBe('');
  });

  it('round-trips binary files larger than one chunk, and empty files', async () => {
    const { agent: a, dir } = await agent();
    const data = Buffer.alloc(150_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 256;
    const path = join(dir, 'blob.bin');
    const t0 = performance.now();
    await a.writeFile(path, data, 0o640);
    const back = await a.readFile(path);
    console.log(`agent 150 KB write+read ${(performance.now() - t0).toFixed(1)} ms`);
    expect(back.equals(data)).toBe(true);
    expect((await a.exec(['/usr/bin/stat', '-c', '%a', path])).stdout.trim()).toBe('640');
    // Larger than one read chunk (1 MiB), written on the host side: host and "guest" are one here.
    const large = randomBytes(2_500_000);
    writeFileSync(join(dir, 'large.bin'), large);
    const t1 = performance.now();
    expect((await a.readFile(join(dir, 'large.bin'))).equals(large)).toBe(true);
    console.log(`agent 2.5 MB read ${(performance.now() - t1).toFixed(1)} ms`);
    const empty = join(dir, 'empty');
    await a.writeFile(empty, '');
    expect((await a.readFile(empty)).length).toBe(0);
    const missing = await a.readFile(join(dir, 'missing')).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(AgentError);
  });

  it('reads the time exactly, vCPUs and memory blocks', async () => {
    const { agent: a } = await agent();
    const before = BigInt(Date.now()) * 1_000_000n;
    const ns = await a.getTime();
    const after = BigInt(Date.now() + 1) * 1_000_000n;
    expect(ns >= before && ns <= after).toBe(true);
    // qemu-ga reports whole microseconds × 1000; JSON.parse would round that to a multiple of 256 ns.
    expect(ns % 1_000n).toBe(0n);
    const vcpus = await a.getVcpus();
    expect(vcpus.length).toBeGreaterThan(0);
    expect(vcpus.map((v) => v['logical-id'])).toContain(0);
    expect(vcpus.every((v) => typeof v.online === 'boolean')).toBe(true);
    const blocks = await a.getMemoryBlocks();
    expect(blocks.length).toBeGreaterThan(0);
    expect(blocks.every((b) => Number.isInteger(b.phys_index) && typeof b.online === 'boolean')).toBe(true);
  });

  it('queues concurrent calls so each gets its own reply', async () => {
    const { agent: a } = await agent();
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        i % 4 === 0 ? a.getTime().then((ns) => typeof ns)
        : i % 4 === 1 ? a.info().then((info) => typeof info.version)
        : i % 4 === 2 ? a.exec(['/bin/echo', String(i)]).then((r) => r.stdout)
        : a.getVcpus().then((v) => Array.isArray(v)),
      ),
    );
    results.forEach((result, i) => expect(result).toEqual(['bigint', 'string', `${i}\n`, true][i % 4]));
  });

  it('surfaces agent errors with their class and stays usable', async () => {
    const { agent: a } = await agent();
    const error = await a.command('guest-no-such-command').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentError);
    expect(error).toMatchObject({ code: 'QGA_COMMAND', command: 'guest-no-such-command', agentClass: 'CommandNotFound' });
    await a.ping();
  });

  it('never takes a late reply for the next answer', async () => {
    const { agent: a, dir } = await agent();
    // 2 MiB of /dev/zero comes back as ~2.8 MB of base64 (~90 ms of qemu-ga work): certainly late.
    const handle = await a.command<number>('guest-file-open', { path: '/dev/zero', mode: 'r' });
    const late = await a.command('guest-file-read', { handle, count: 2 * 1024 * 1024 }, { timeoutMs: 5 }).catch((e: unknown) => e);
    expect((late as Error).name).toBe('DeadlineError');
    const t0 = performance.now();
    const info = await a.info(); // resyncs past the stale reply first
    console.log(`resync past a 2.8 MB stale reply ${(performance.now() - t0).toFixed(1)} ms`);
    expect(info.version).toMatch(/^\d+\.\d+/);
    await a.command('guest-file-close', { handle });
    expect(await a.readFile(join(dir, 'missing')).catch((e: unknown) => (e as AgentError).command)).toBe('guest-file-open');
  });

  it('resends guest-sync with a new id while the agent is silent and takes only the newest answer', async () => {
    const { agent: a, qga } = await agent();
    qga.kill('SIGSTOP'); // silent, like a guest whose agent has not started yet
    const resume = setTimeout(() => qga.kill('SIGCONT'), 1_300);
    try {
      const t0 = performance.now();
      await a.sync(10_000);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(1_200);
    } finally {
      clearTimeout(resume);
      qga.kill('SIGCONT');
    }
    // Two earlier ids were answered too; taken for replies, they would make these wrong.
    const ns = await a.getTime();
    expect(ns > 1_600_000_000_000_000_000n).toBe(true);
    expect((await a.info()).version).toMatch(/^\d+\.\d+/);
  });

  it('reconnects to a running agent and syncs quickly', async () => {
    const { agent: a } = await agent();
    const socket = a.socketPath;
    await a.close();
    await a.close();
    await expect(a.ping()).rejects.toBeInstanceOf(AgentDisconnectedError);
    const t0 = performance.now();
    const again = await GuestAgent.connect(socket, { timeoutMs: 5_000 });
    const connectMs = performance.now() - t0;
    scope.register({ name: `agent again ${socket}`, kind: 'socket', dispose: () => again.close() });
    await again.ping();
    console.log(`agent connect+sync to a running qemu-ga ${connectMs.toFixed(2)} ms`);
  });

  it('waits for an agent socket that appears late', async () => {
    const dir = registeredTempDir(scope, 'bw-qga-late-');
    const socket = join(dir, 'qga.sock');
    const connecting = GuestAgent.connect(socket, { timeoutMs: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 400));
    startHostAgent(scope, dir, socket);
    const a = await connecting;
    scope.register({ name: `agent ${socket}`, kind: 'socket', dispose: () => a.close() });
    await a.ping();
  });

  it('rejects a pending command at once when the agent dies, and later ones too', async () => {
    const { agent: a, qga } = await agent();
    qga.kill('SIGSTOP');
    const pending = a.ping({ timeoutMs: 30_000 }).catch((e: unknown) => e);
    const killedAt = performance.now();
    qga.kill('SIGKILL');
    expect(await pending).toBeInstanceOf(AgentDisconnectedError);
    expect(performance.now() - killedAt).toBeLessThan(1_000);
    await expect(a.ping()).rejects.toBeInstanceOf(AgentDisconnectedError);
    await a.close();
    await a.close();
  });

  it('fails a connect to a socket nobody creates with a deadline naming the path, or on abort', async () => {
    const dir = registeredTempDir(scope, 'bw-qga-none-');
    const error = await GuestAgent.connect(join(dir, 'absent.sock'), { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineError);
    expect((error as Error).message).toMatch(/absent\.sock/);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('run cancelled')), 50);
    await expect(GuestAgent.connect(join(dir, 'absent.sock'), { timeoutMs: 10_000, signal: controller.signal })).rejects.toThrow('run cancelled');
  });

  it('reports a guest whose agent never answers as AgentSilentError', async () => {
    // A real QEMU with the agent's virtio port but no guest: the chardev accepts, nobody answers.
    const dir = registeredTempDir(scope, 'bw-qga-silent-');
    const agentSocket = join(dir, 'qga.sock');
    const { socket: qmpSocket } = startQemu(scope, {
      machine: 'q35,accel=tcg',
      extra: [
        '-device', 'virtio-serial-pci,id=vser0',
        '-chardev', `socket,id=qga0,path=${agentSocket},server=on,wait=off`,
        '-device', 'virtserialport,bus=vser0.0,chardev=qga0,name=org.qemu.guest_agent.0',
      ],
    });
    // QMP answering means the chardev socket exists: the deadline below measures only silence.
    const qmp = await QmpClient.connect(qmpSocket, { timeoutMs: 10_000 });
    scope.register({ name: `qmp ${qmpSocket}`, kind: 'socket', dispose: () => qmp.close() });
    const t0 = performance.now();
    const error = await GuestAgent.connect(agentSocket, { timeoutMs: 1_200 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentSilentError);
    expect((error as AgentSilentError).code).toBe('QGA_SILENT');
    expect(performance.now() - t0).toBeLessThan(3_000);
    // Cancelling a run must not wait out the agent's deadline.
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('run cancelled')), 100);
    const t1 = performance.now();
    await expect(GuestAgent.connect(agentSocket, { timeoutMs: 30_000, signal: controller.signal })).rejects.toThrow('run cancelled');
    expect(performance.now() - t1).toBeLessThan(400);
  });
});
