import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { DeadlineError } from '../core/errors.js';
import { QmpClient } from './client.js';
import { QmpDisconnectedError, QmpExecuteError } from './errors.js';

/** A real QEMU with no guest: QMP is all these tests need. */
function startQemu(machine = 'none'): { socket: string; qemu: ResultPromise; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'bw-qmp-'));
  const socket = join(dir, 'qmp.sock');
  const qemu = execa('qemu-system-x86_64', ['-machine', machine, '-nodefaults', '-display', 'none', '-qmp', `unix:${socket},server=on,wait=off`], { reject: false });
  return { socket, qemu, dir };
}

describe('QmpClient against a real QEMU', () => {
  const started: Array<{ qemu: ResultPromise; dir: string; client?: QmpClient }> = [];
  afterEach(async () => {
    for (const s of started.splice(0)) {
      await s.client?.close();
      s.qemu.kill('SIGKILL');
      await s.qemu;
      rmSync(s.dir, { recursive: true, force: true });
    }
  });

  async function connect(machine?: string): Promise<{ client: QmpClient; qemu: ResultPromise }> {
    const { socket, qemu, dir } = startQemu(machine);
    const entry: { qemu: ResultPromise; dir: string; client?: QmpClient } = { qemu, dir };
    started.push(entry);
    const client = await QmpClient.connect(socket, { timeoutMs: 10_000 });
    entry.client = client;
    return { client, qemu };
  }

  it('negotiates and answers typed queries', async () => {
    const t0 = performance.now();
    const { client } = await connect();
    const connectMs = performance.now() - t0;
    expect(client.state).toBe('running');
    expect(client.greeting.QMP.version.qemu.major).toBeGreaterThanOrEqual(7);
    const t1 = performance.now();
    const status = await client.execute('query-status');
    const roundTripMs = performance.now() - t1;
    expect(['running', 'prelaunch', 'paused']).toContain(status.status);
    console.log(`QMP connect+capabilities ${connectMs.toFixed(1)} ms, query round trip ${roundTripMs.toFixed(2)} ms`);
  });

  it('carries the QMP error class and description of a rejected command', async () => {
    const { client } = await connect();
    const error = await client.execute('device_add', { driver: 'no-such-device', id: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QmpExecuteError);
    expect((error as QmpExecuteError).qmpClass).toBe('GenericError');
    expect((error as QmpExecuteError).desc).toMatch(/no-such-device/);
    expect((error as QmpExecuteError).command).toBe('device_add');
    const unknown = await client.executeRaw('no-such-command').catch((e: unknown) => e);
    expect((unknown as QmpExecuteError).qmpClass).toBe('CommandNotFound');
  });

  it('delivers events to a subscriber registered before the command', async () => {
    const { client } = await connect('q35,accel=tcg');
    const stopped = client.waitForEvent('STOP', { timeoutMs: 5_000 });
    await client.execute('stop');
    expect((await stopped).event).toBe('STOP');
    const resumed = client.waitForEvent('RESUME', { timeoutMs: 5_000 });
    await client.execute('cont');
    const event = await resumed;
    expect(event.receivedAt).toBeGreaterThan(0);
  });

  it('names the event in a wait deadline and matches on a data subset', async () => {
    const { client } = await connect();
    const error = await client.waitForEvent('DEVICE_DELETED', { match: { device: 'x' }, timeoutMs: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineError);
    expect((error as Error).message).toMatch(/DEVICE_DELETED matching \{"device":"x"\}/);
  });

  it('rejects a pending call at once when QEMU is killed, and every later call too', async () => {
    const { client, qemu } = await connect();
    const stuck = client.waitForEvent('NEVER', { timeoutMs: 30_000 });
    const call = client.executeRaw('query-status');
    const killedAt = performance.now();
    qemu.kill('SIGKILL');
    await expect(stuck).rejects.toBeInstanceOf(QmpDisconnectedError);
    await call.catch(() => undefined);
    expect(performance.now() - killedAt).toBeLessThan(2_000);
    await expect(client.execute('query-status')).rejects.toBeInstanceOf(QmpDisconnectedError);
    expect(client.state).toBe('disconnected');
  });

  it('closes idempotently', async () => {
    const { client } = await connect();
    await client.close();
    await client.close();
    expect(client.state).toBe('disconnected');
    await expect(client.execute('query-status')).rejects.toBeInstanceOf(QmpDisconnectedError);
  });

  it('fails a connect to a socket nobody creates with a deadline naming the path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bw-qmp-none-'));
    try {
      const error = await QmpClient.connect(join(dir, 'absent.sock'), { timeoutMs: 200 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DeadlineError);
      expect((error as Error).message).toMatch(/absent\.sock/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
