import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { DeadlineError } from '../core/errors.js';
import { ResourceScope } from '../core/scope.js';
import { QmpClient, type QmpEvent } from './client.js';
import { QMP_COMMAND_NAMES } from './commands.js';
import { QmpDisconnectedError, QmpExecuteError, QmpProtocolError } from './errors.js';
import { eventData, QMP_EVENT_NAMES } from './events.js';
import { registeredTempDir, spawnRegistered, startQemu } from './test-support.js';

describe('QmpClient against a real QEMU', () => {
  let scope = new ResourceScope('qmp-test');
  afterEach(async () => {
    const errors = await scope.dispose();
    scope = new ResourceScope('qmp-test');
    expect(errors).toEqual([]);
  });

  async function connect(options: Parameters<typeof startQemu>[1] = {}): Promise<{ client: QmpClient; qemu: ReturnType<typeof startQemu>['qemu']; socket: string }> {
    const { socket, qemu } = startQemu(scope, options);
    const client = await QmpClient.connect(socket, { timeoutMs: 10_000 });
    scope.register({ name: `qmp ${socket}`, kind: 'socket', dispose: () => client.close() });
    return { client, qemu, socket };
  }

  it('negotiates and answers typed queries', async () => {
    const t0 = performance.now();
    const { client } = await connect();
    const connectMs = performance.now() - t0;
    expect(client.state).toBe('running');
    expect(client.greeting.QMP.version.qemu.major).toBeGreaterThanOrEqual(7);
    expect(client.greeting.QMP.capabilities).toContain('oob');
    const t1 = performance.now();
    const status = await client.execute('query-status');
    const roundTripMs = performance.now() - t1;
    expect(status).toMatchObject({ running: false, status: 'prelaunch' });
    expect(await client.execute('query-version')).toEqual(client.greeting.QMP.version);
    console.log(`QMP connect+capabilities ${connectMs.toFixed(1)} ms (includes QEMU start), query round trip ${roundTripMs.toFixed(2)} ms`);
  });

  it('reconnects to the same QEMU after a close (QMP serves one client at a time)', async () => {
    const { client, socket } = await connect();
    await client.close();
    const t0 = performance.now();
    const again = await QmpClient.connect(socket, { timeoutMs: 5_000 });
    const reconnectMs = performance.now() - t0;
    scope.register({ name: `qmp again ${socket}`, kind: 'socket', dispose: () => again.close() });
    expect((await again.execute('query-status')).status).toBe('prelaunch');
    console.log(`QMP connect+capabilities to a running QEMU ${reconnectMs.toFixed(2)} ms`);
  });

  it('routes many concurrent replies to their own calls by id', async () => {
    const { client } = await connect();
    const calls = Array.from({ length: 60 }, (_, i) =>
      i % 3 === 0 ? client.execute('query-status').then((r) => r.status)
      : i % 3 === 1 ? client.execute('query-version').then((r) => r.qemu.major)
      : client.execute('qom-get', { path: '/machine', property: 'type' }),
    );
    const results = await Promise.all(calls);
    results.forEach((result, i) => expect(result).toBe(i % 3 === 0 ? 'prelaunch' : i % 3 === 1 ? client.greeting.QMP.version.qemu.major : 'none-machine'));
  });

  it('waits for a socket QEMU has not created yet', async () => {
    const socket = join(registeredTempDir(scope, 'bw-qmp-late-'), 'qmp.sock');
    const connecting = QmpClient.connect(socket, { timeoutMs: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    startQemu(scope, { socket });
    const client = await connecting;
    scope.register({ name: `qmp ${socket}`, kind: 'socket', dispose: () => client.close() });
    expect((await client.execute('query-status')).status).toBe('prelaunch');
  });

  it('types only commands and events that QEMU 7.2 actually has', async () => {
    const { client } = await connect();
    const schema = (await client.executeRaw('query-qmp-schema')) as Array<{ name: string; 'meta-type': string }>;
    const commands = new Set(schema.filter((e) => e['meta-type'] === 'command').map((e) => e.name));
    expect(QMP_COMMAND_NAMES.filter((name) => !commands.has(name))).toEqual([]);
    const events = new Set(schema.filter((e) => e['meta-type'] === 'event').map((e) => e.name));
    expect(QMP_EVENT_NAMES.filter((name) => !events.has(name))).toEqual([]);
  });

  it('carries the QMP error class, description, arguments and reply of a rejected command', async () => {
    const { client } = await connect();
    const error = await client.execute('device_add', { driver: 'no-such-device', id: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QmpExecuteError);
    const executeError = error as QmpExecuteError;
    expect(executeError).toMatchObject({ code: 'QMP_EXECUTE', category: 'infrastructure', command: 'device_add', qmpClass: 'GenericError' });
    expect(executeError.desc).toMatch(/no-such-device/);
    expect(executeError.args).toEqual({ driver: 'no-such-device', id: 'x' });
    expect(executeError.reply).toMatchObject({ error: { class: 'GenericError' } });
    const unknown = await client.executeRaw('no-such-command').catch((e: unknown) => e);
    expect((unknown as QmpExecuteError).qmpClass).toBe('CommandNotFound');
    // The connection is still usable after errors.
    expect((await client.execute('query-status')).status).toBe('prelaunch');
  });

  it('delivers events to a subscriber registered before the command, ahead of its reply', async () => {
    const { client } = await connect({ machine: 'q35,accel=tcg' });
    const seen: QmpEvent[] = [];
    client.on('event', (event: QmpEvent) => seen.push(event));
    const resumed = client.waitForEvent('RESUME', { timeoutMs: 5_000 });
    await client.execute('cont');
    const repliedAt = performance.now();
    const event = await resumed;
    expect(event.receivedAt).toBeLessThanOrEqual(repliedAt);
    expect(event.timestamp.seconds).toBeGreaterThan(1_600_000_000);
    const stopped = client.waitForEvent('STOP', { timeoutMs: 5_000 });
    await client.execute('stop');
    expect((await stopped).event).toBe('STOP');
    expect(seen.map((e) => e.event)).toEqual(['RESUME', 'STOP']);
    expect((await client.execute('query-status')).status).toBe('paused');
  });

  it('matches an event on a subset of its data', async () => {
    const { client } = await connect({ extra: ['-device', 'virtio-serial-pci,id=vs0'], machine: 'q35,accel=tcg' });
    await client.execute('device_add', { driver: 'virtserialport', id: 'port1', bus: 'vs0.0' });
    await client.execute('device_add', { driver: 'virtserialport', id: 'port2', bus: 'vs0.0' });
    const second = client.waitForEvent('DEVICE_DELETED', { match: { device: 'port2' }, timeoutMs: 5_000 });
    await client.execute('device_del', { id: 'port1' });
    await client.execute('device_del', { id: 'port2' });
    const deleted = eventData(await second, 'DEVICE_DELETED');
    expect(deleted.device).toBe('port2');
    expect(deleted.path).toMatch(/port2/);
  });

  it('names the event in a wait deadline', async () => {
    const { client } = await connect();
    const error = await client.waitForEvent('DEVICE_DELETED', { match: { device: 'x' }, timeoutMs: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineError);
    expect((error as Error).message).toMatch(/DEVICE_DELETED matching \{"device":"x"\}/);
    expect(client.listenerCount('event')).toBe(0);
  });

  it('stops waiting for an event when its signal aborts', async () => {
    const { client } = await connect();
    const controller = new AbortController();
    const waiting = client.waitForEvent('STOP', { signal: controller.signal, timeoutMs: 10_000 });
    controller.abort(new Error('cell cancelled'));
    await expect(waiting).rejects.toThrow('cell cancelled');
    expect(client.listenerCount('event')).toBe(0);
  });

  it('puts a deadline naming the command on a call, and drops its late reply', async () => {
    const { client, qemu } = await connect();
    qemu.kill('SIGSTOP');
    const error = await client.execute('query-status', undefined, { timeoutMs: 200 }).catch((e: unknown) => e);
    qemu.kill('SIGCONT');
    expect(error).toBeInstanceOf(DeadlineError);
    expect((error as Error).message).toMatch(/QMP reply to query-status/);
    // The late reply to query-status arrives now; it must not answer query-version.
    expect(await client.execute('query-version')).toEqual(client.greeting.QMP.version);
    expect(client.state).toBe('running');
  });

  it('rejects every pending call and wait at once when QEMU is killed', async () => {
    const { client, qemu } = await connect();
    const disconnected = new Promise<Error | undefined>((resolve) => client.once('disconnect', resolve));
    qemu.kill('SIGSTOP'); // so the call below is certainly still pending
    const stuck = client.waitForEvent('NEVER', { timeoutMs: 30_000 }).catch((e: unknown) => e);
    const call = client.execute('query-status', undefined, { timeoutMs: 30_000 }).catch((e: unknown) => e);
    const killedAt = performance.now();
    qemu.kill('SIGKILL');
    const [callError, waitError] = await Promise.all([call, stuck]);
    const rejectedAfterMs = performance.now() - killedAt;
    expect(callError).toBeInstanceOf(QmpDisconnectedError);
    expect((callError as Error).message).toMatch(/query-status/);
    expect(waitError).toBeInstanceOf(QmpDisconnectedError);
    expect(rejectedAfterMs).toBeLessThan(1_000);
    expect(await disconnected).toBeInstanceOf(QmpDisconnectedError);
    expect(client.state).toBe('disconnected');
    await expect(client.execute('query-status')).rejects.toBeInstanceOf(QmpDisconnectedError);
    await expect(client.waitForEvent('STOP')).rejects.toBeInstanceOf(QmpDisconnectedError);
    console.log(`pending call rejected ${rejectedAfterMs.toFixed(1)} ms after SIGKILL`);
  });

  it('closes idempotently, rejecting a pending call as closed by us', async () => {
    const { client, qemu } = await connect();
    const disconnected = new Promise<Error | undefined>((resolve) => client.once('disconnect', resolve));
    qemu.kill('SIGSTOP');
    const call = client.execute('query-status').catch((e: unknown) => e);
    await Promise.all([client.close(), client.close()]);
    await client.close();
    qemu.kill('SIGCONT');
    const error = await call;
    expect(error).toBeInstanceOf(QmpDisconnectedError);
    expect((error as Error).message).toMatch(/closed by bothworlds/);
    expect(await disconnected).toBeUndefined();
    expect(client.state).toBe('disconnected');
    await expect(client.execute('query-status')).rejects.toBeInstanceOf(QmpDisconnectedError);
  });

  it('refuses a peer that is not QMP (the human monitor) with QmpProtocolError', async () => {
    const socket = join(registeredTempDir(scope, 'bw-hmp-'), 'hmp.sock');
    const hmp = spawnRegistered(scope, process.env.BOTHWORLDS_QEMU ?? 'qemu-system-x86_64', ['-machine', 'none', '-nodefaults', '-display', 'none', '-monitor', `unix:${socket},server=on,wait=off`]);
    const error = await QmpClient.connect(socket, { timeoutMs: 5_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QmpProtocolError);
    // Refused while the monitor was up, not because QEMU had gone.
    expect(hmp.exitCode).toBeNull();
    expect((error as QmpProtocolError).code).toBe('QMP_PROTOCOL');
  });

  it('fails a connect to a socket nobody creates with a deadline naming the path', async () => {
    const dir = registeredTempDir(scope, 'bw-qmp-none-');
    const t0 = performance.now();
    const error = await QmpClient.connect(join(dir, 'absent.sock'), { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineError);
    expect((error as Error).message).toMatch(/absent\.sock/);
    expect(performance.now() - t0).toBeLessThan(1_000);
  });

  it('gives up connecting when its signal aborts', async () => {
    const dir = registeredTempDir(scope, 'bw-qmp-abort-');
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('run cancelled')), 100);
    await expect(QmpClient.connect(join(dir, 'absent.sock'), { timeoutMs: 10_000, signal: controller.signal })).rejects.toThrow('run cancelled');
  });
});
