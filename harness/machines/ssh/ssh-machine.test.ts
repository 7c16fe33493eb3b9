import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../../core/deadline.js';
import { ensureTools } from '../../images/tools.js';
import { ResourceScope } from '../../core/scope.js';
import type { StartedMachine } from '../machine.js';
import { startLocalMachine } from '../local/index.js';
import { connectSshMachine } from './ssh-machine.js';
import { PASSPHRASE_ENV } from './connect.js';
import { spawnLocal } from '../local/local-process.js';
import { startTestSshd, type TestSshd } from './testing/test-sshd.js';

// CPU offline/online over SSH is tested in ../hosts/cpu-hotplug.test.ts (one file, run in order).

describe('ssh machine against a real OpenSSH server on 127.0.0.1', () => {
  const root = new ResourceScope('ssh-machine-test');
  let sshd: TestSshd;
  let machine: StartedMachine;

  beforeAll(async () => {
    sshd = await startTestSshd(root);
    const t0 = performance.now();
    machine = await connectSshMachine(sshd.host, { scope: root.child('main') });
    const connected = performance.now();
    const result = await machine.exec(['echo', 'hi']);
    console.log(`ssh connect+mktemp ${(connected - t0).toFixed(0)} ms, then exec round trip ${(performance.now() - connected).toFixed(1)} ms (connect ${machine.startMetrics.connect_ms!.value.toFixed(0)} ms)`);
    expect(result.stdout).toBe('hi\n');
  });

  afterAll(async () => {
    await root.dispose();
  });

  it('execs with exit code, signal, stdout, stderr, input, env and a deadline that kills the remote process', async () => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await machine.exec(['true']);
      times.push(performance.now() - t0);
    }
    console.log(`ssh exec round trips: ${times.map((t) => t.toFixed(1)).join(', ')} ms`);
    const result = await machine.exec(['sh', '-c', 'read x; echo "out $x $BW_VAR"; echo err >&2; exit 3'], { input: 'hello\n', env: { BW_VAR: "it's" } });
    expect(result).toMatchObject({ exitCode: 3, stdout: "out hello it's\n", stderr: 'err\n', timedOut: false });
    const killed = await machine.exec(['sh', '-c', 'kill -TERM $$']);
    expect(killed).toMatchObject({ exitCode: null, signal: 'TERM' });
    const marker = `29.${process.pid}`; // a sleep argument no other process has
    const slow = await machine.exec(['sleep', marker], { timeoutMs: 300 });
    expect(slow.timedOut).toBe(true);
    expect(slow.durationMs).toBeLessThan(5_000);
    await pollUntil(async () => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }), (ps) => !ps.includes(`sleep ${marker}`), { timeoutMs: 5_000, what: 'the timed-out remote process to be gone' });
  });

  it('uploads 1 MiB and a static binary over SFTP and runs the binary', async () => {
    const data = Buffer.alloc(1 << 20, 0xa5);
    const t0 = performance.now();
    await machine.writeFile(join(machine.payloadDir, 'blob'), data);
    console.log(`SFTP upload of 1 MiB: ${(performance.now() - t0).toFixed(1)} ms`);
    expect((await machine.readFile(join(machine.payloadDir, 'blob'))).equals(data)).toBe(true);
    const binary = readFileSync((await ensureTools()).dirtyMem);
    await machine.writeFile(join(machine.payloadDir, 'bw-dirty-mem'), binary, 0o755);
    expect((await machine.exec(['./bw-dirty-mem', '--help'])).stdout).toMatch(/usage: bw-dirty-mem/);
  });

  it('streams a spawned process line by line into output and kill escalates TERM to KILL', async () => {
    const app = await machine.spawn(['sh', '-c', 'trap "" TERM; echo one; sleep 0.3; echo two; while :; do sleep 1; done']);
    const two = await machine.output.waitForLine(/^two$/, 10_000, 'app');
    const one = machine.output.lines.find((l) => l.text === 'one')!;
    expect(two.t - one.t).toBeGreaterThan(200);
    expect(await app.isRunning()).toBe(true);
    await app.kill('TERM');
    expect((await app.wait(1_000)).signal).toBe('KILL');
    expect(await app.isRunning()).toBe(false);
  });

  it('an app spawned over SSH dies when the connection drops', async () => {
    const scope = root.child('drop');
    const dropped = await connectSshMachine(sshd.host, { scope });
    const marker = `28.${process.pid}`;
    await dropped.spawn(['sleep', marker]);
    const running = (): boolean => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).includes(`sleep ${marker}`);
    expect(running()).toBe(true);
    (dropped as unknown as { client: { destroy(): void } }).client.destroy();
    await pollUntil(async () => running(), (alive) => !alive, { timeoutMs: 10_000, what: 'the orphaned app to be killed by its guard' });
    await pollUntil(async () => existsSync(dropped.payloadDir), (exists) => !exists, { timeoutMs: 10_000, what: 'the guard to remove the orphaned remote dir' });
    await scope.dispose();
  });

  it('measures the same CPU facts as the local backend on the same host', async () => {
    const local = await startLocalMachine({ scope: root.child('local') });
    const [remote, here] = await Promise.all([machine.facts(), local.facts()]);
    expect(remote.cpuFlags).toEqual(here.cpuFlags);
    expect(remote.cpuModelName).toBe(here.cpuModelName);
    expect(remote.pmu).toMatchObject({ cycles: here.pmu!.cycles, instructions: here.pmu!.instructions });
  });

  it('holds memory on the host and releases it', async () => {
    const ack = await machine.controls.memoryPressure!.hold(48);
    const pid = ack.detail!.pid as number;
    expect(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1])).toBeGreaterThan(45 * 1024);
    expect(machine.output.lines.some((l) => l.text.includes('dirty-mem'))).toBe(false); // not the app's output
    await machine.controls.memoryPressure!.release();
    await pollUntil(async () => existsSync(`/proc/${pid}`), (alive) => !alive, { timeoutMs: 5_000, what: 'the holder to exit' });
  });

  it('refuses a host whose key is not the one in known_hosts, naming the fingerprint seen', async () => {
    const other = (await sshd.otherPublicKey('impostor')).split(' ');
    const knownHosts = join(sshd.dir, 'wrong_known_hosts');
    writeFileSync(knownHosts, `[127.0.0.1]:${sshd.port} ${other[0]} ${other[1]}\n`);
    const seen = execFileSync('ssh-keygen', ['-lf', join(sshd.dir, 'host_ed25519.pub')], { encoding: 'utf8' }).split(' ')[1]!;
    const error = await connectSshMachine({ ...sshd.host, knownHosts }, { scope: root.child('wrong-key') }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SSH_HOST_KEY', category: 'infrastructure' });
    expect((error as Error).message).toContain(seen);
    const unknown = await connectSshMachine({ ...sshd.host, knownHosts: join(sshd.dir, 'missing') }, { scope: root.child('unknown') }).catch((e: unknown) => e);
    expect((unknown as Error).message).toMatch(/is not in known_hosts/);
    const optOut = await connectSshMachine({ ...sshd.host, knownHosts: false }, { scope: root.child('opt-out') });
    await optOut.stop();
  });

  it('reports a dead host quickly as SSH_CONNECT, and a refused key as SSH_AUTH, never with key contents', async () => {
    const t0 = performance.now();
    const error = await connectSshMachine({ ...sshd.host, port: 1 }, { scope: root.child('dead') }).catch((e: unknown) => e);
    console.log(`dead host reported in ${(performance.now() - t0).toFixed(1)} ms: ${(error as Error).message}`);
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect(error).toMatchObject({ code: 'SSH_CONNECT', category: 'infrastructure' });
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
    await sshd.otherPublicKey('stranger');
    const stranger = join(sshd.dir, 'stranger');
    const auth = await connectSshMachine({ ...sshd.host, keyPath: stranger }, { scope: root.child('auth') }).catch((e: unknown) => e);
    expect(auth).toMatchObject({ code: 'SSH_AUTH' });
    for (const key of [stranger, sshd.host.keyPath!]) {
      const secret = readFileSync(key, 'utf8').split('\n').slice(1, -2).join('');
      for (const e of [error, auth]) expect(JSON.stringify({ m: (e as Error).message, d: (e as { details?: unknown }).details })).not.toContain(secret.slice(0, 40));
    }
  });

  it('uses an encrypted key with the passphrase from the environment, and never prints the passphrase', async () => {
    const keyPath = join(sshd.dir, 'encrypted');
    const passphrase = `pass-${process.pid}-phrase`;
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-f', keyPath]);
    sshd.authorize(readFileSync(`${keyPath}.pub`, 'utf8').trim());
    const host = { ...sshd.host, keyPath };
    const saved = process.env[PASSPHRASE_ENV];
    try {
      delete process.env[PASSPHRASE_ENV];
      const missing = await connectSshMachine(host, { scope: root.child('no-pass') }).catch((e: unknown) => e);
      expect(missing).toMatchObject({ code: 'SSH_KEY', category: 'config' });
      expect((missing as Error).message).toContain(PASSPHRASE_ENV);
      process.env[PASSPHRASE_ENV] = 'wrong-passphrase-xyz';
      const wrong = await connectSshMachine(host, { scope: root.child('wrong-pass') }).catch((e: unknown) => e);
      expect(wrong).toMatchObject({ code: 'SSH_KEY' });
      expect(JSON.stringify({ m: (wrong as Error).message, d: (wrong as { details?: unknown }).details })).not.toContain('wrong-passphrase-xyz');
      process.env[PASSPHRASE_ENV] = passphrase;
      const ok = await connectSshMachine(host, { scope: root.child('pass') });
      expect((await ok.exec(['echo', 'in'])).stdout).toBe('in\n');
      await ok.stop();
    } finally {
      if (saved === undefined) delete process.env[PASSPHRASE_ENV];
      else process.env[PASSPHRASE_ENV] = saved;
    }
  });

  it('authenticates through an ssh-agent (SSH_AUTH_SOCK) without a key file', async () => {
    const socket = join(sshd.dir, 'agent.sock');
    const scope = root.child('agent');
    const agent = await spawnLocal(['ssh-agent', '-D', '-a', socket]);
    scope.register({ name: 'ssh-agent', kind: 'process', dispose: () => agent.kill('TERM'), disposeSync: () => agent.killSync() });
    await pollUntil(async () => existsSync(socket), Boolean, { timeoutMs: 5_000, what: 'the agent socket' });
    execFileSync('ssh-add', ['-q', sshd.host.keyPath!], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: 'ignore' });
    const saved = process.env.SSH_AUTH_SOCK;
    process.env.SSH_AUTH_SOCK = socket;
    try {
      const { keyPath: _unused, ...withoutKey } = sshd.host;
      const viaAgent = await connectSshMachine({ ...withoutKey, useAgent: true }, { scope });
      expect((await viaAgent.exec(['id', '-u'])).stdout).toBe('0\n');
    } finally {
      if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
      else process.env.SSH_AUTH_SOCK = saved;
      await scope.dispose();
    }
  });

  it('removes everything it uploaded when it stops, and stop is idempotent', async () => {
    const second = await connectSshMachine(sshd.host, { scope: root.child('second') });
    await second.writeFile(join(second.payloadDir, 'x'), 'x');
    await second.facts(); // uploads the perf probe into the remote dir
    expect(existsSync(join(second.payloadDir, '.bw-perfProbe'))).toBe(true);
    await second.stop();
    await second.stop();
    expect(existsSync(second.payloadDir)).toBe(false);
    expect(await Promise.race([second.lost!.then(() => 'lost'), new Promise((r) => setTimeout(() => r('quiet'), 200))])).toBe('quiet');
  });
});
