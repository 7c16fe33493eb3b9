import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PortForwarder } from './port-forward.js';
import { Prober, probeOnce } from './prober.js';
import { hostForwardPort } from './user-net.js';

/** Loopback servers that answer the way a guest application does through slirp. */
const servers: Server[] = [];
const sockets = new Set<Socket>();
async function server(onConnection: (socket: Socket) => void): Promise<number> {
  const s = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined).on('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  servers.push(s);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return (s.address() as { port: number }).port;
}
// Closes when the client half-closes, like redis-server or nginx on EOF.
const closesOnEof = () => server((socket) => socket.on('data', () => undefined).on('end', () => socket.end()));

afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
});

describe('info usernet', () => {
  it('finds the host port of a forward by guest port', () => {
    const table = [
      'Hub -1 (net0):',
      '  Protocol[State]    FD  Source Address  Port   Dest. Address  Port RecvQ SendQ',
      '  TCP[HOST_FORWARD]  14       127.0.0.1 33507       10.0.2.15  8080     0     0',
      '  TCP[HOST_FORWARD]  13       127.0.0.1 44907       10.0.2.15  6379     0     0',
    ].join('\n');
    expect(hostForwardPort(table, 6379)).toBe(44907);
    expect(hostForwardPort(table, 8080)).toBe(33507);
    expect(hostForwardPort(table, 22)).toBeUndefined();
  });
});

describe('port forwarder', () => {
  it('keeps its port while the target moves, and refuses nothing it can reach', async () => {
    const first = await server((socket) => socket.end('first\n'));
    const second = await server((socket) => socket.end('second\n'));
    let target = first;
    const forwarder = await PortForwarder.open({ resolveTarget: async () => ({ host: '127.0.0.1', port: target }) });
    const read = () =>
      new Promise<string>((resolve, reject) => {
        let text = '';
        const socket = connect({ host: '127.0.0.1', port: forwarder.port });
        socket.on('data', (d) => (text += d)).on('close', () => resolve(text)).on('error', reject);
      });
    expect(await read()).toBe('first\n');
    target = second;
    expect(await read()).toBe('second\n');
    // A target that resets (slirp when the guest refuses) resets the client too, never a clean close.
    const resetting = await server((socket) => socket.resetAndDestroy());
    target = resetting;
    await expect(probeOnce({ host: '127.0.0.1', port: forwarder.port }, { kind: 'tcp' }, 1_000)).rejects.toThrow(/ECONNRESET/);
    await forwarder.close();
    await expect(probeOnce({ host: '127.0.0.1', port: forwarder.port }, { kind: 'tcp' }, 1_000)).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('a tcp probe', () => {
  it('counts a close before it asked anything as no answer: slirp closes cleanly when the guest is slow to refuse', async () => {
    const early = await server((socket) => socket.end());
    await expect(probeOnce({ host: '127.0.0.1', port: early }, { kind: 'tcp' }, 1_000)).rejects.toThrow(/closed within 150 ms of connecting, before anything was asked/);
    const eof = await closesOnEof();
    await expect(probeOnce({ host: '127.0.0.1', port: eof }, { kind: 'tcp' }, 1_000)).resolves.toBeUndefined();
    const banner = await server((socket) => void socket.on('error', () => undefined).write('220 ready\r\n'));
    await expect(probeOnce({ host: '127.0.0.1', port: banner }, { kind: 'tcp' }, 1_000)).resolves.toBeUndefined();
  });
});

describe('prober', () => {
  it('measures the longest time without an answer, bounded and counted', async () => {
    const port = await closesOnEof();
    let down = false;
    // A server that stops answering for ~300 ms, like a guest paused by a migration's switch-over.
    const flaky = await server((socket) => {
      if (down) return; // holds the connection without answering
      socket.on('data', () => undefined).on('end', () => socket.end());
    });
    const steady = new Prober({ target: { host: '127.0.0.1', port }, probe: { kind: 'tcp' }, attemptTimeoutMs: 500 }).start();
    const prober = new Prober({ target: { host: '127.0.0.1', port: flaky }, probe: { kind: 'tcp' }, attemptTimeoutMs: 2_000 }).start();
    await prober.nextAnswer(2_000);
    down = true;
    await new Promise((resolve) => setTimeout(resolve, 300));
    down = false;
    await prober.nextAnswer(2_000);
    const gap = prober.stop();
    const calm = steady.stop();
    expect(gap.longestGapMs).toBeGreaterThan(250);
    expect(gap.longestGapMs).toBeLessThan(1_500);
    expect(calm.longestGapMs).toBeLessThan(gap.longestGapMs);
    expect(calm.succeeded).toBeGreaterThan(5);
    expect(gap.attempts).toBeGreaterThanOrEqual(gap.succeeded + gap.failed);
  });

  it('counts an HTTP status line as an answer and anything else as a failure', async () => {
    const http = await server((socket) => socket.once('data', () => socket.end('HTTP/1.1 204 No Content\r\n\r\n')));
    const silent = await server((socket) => socket.once('data', () => socket.end()));
    await expect(probeOnce({ host: '127.0.0.1', port: http }, { kind: 'http', path: '/healthz' }, 1_000)).resolves.toBeUndefined();
    await expect(probeOnce({ host: '127.0.0.1', port: silent }, { kind: 'http', path: '/' }, 1_000)).rejects.toThrow(/closed without an answer/);
  });
});
