import { createConnection, createServer, type Server } from 'node:net';
import { InfrastructureError } from './errors.js';

/** Longest unix socket path Linux takes (sun_path is 108 bytes with its NUL). */
const MAX_SOCKET_PATH = 107;
const CONNECT_DEADLINE_MS = 2_000;

/**
 * The live harness listens on a unix socket in its private temp root. A connect succeeds only while
 * that process lives (the kernel closes the socket when it dies, even by SIGKILL), whatever PID
 * namespace the asking process is in — unlike a pid, which means another process there. The kernel
 * completes the connect from its backlog, so a harness with a busy event loop still answers.
 */
export function holdOwnerLock(socketPath: string): Server {
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    throw new InfrastructureError('TEMP_DIR_UNSAFE', `${socketPath} is longer than a unix socket path may be (${MAX_SOCKET_PATH} bytes); set BOTHWORLDS_RUN_DIR to a shorter folder`);
  }
  const server = createServer((socket) => socket.destroy());
  server.on('error', () => undefined);
  // Binding and listening happen synchronously inside listen(): the lock is held when it returns.
  server.listen(socketPath);
  server.unref();
  return server;
}

export type OwnerState = 'alive' | 'dead' | 'absent';

/**
 * 'alive' when something listens on the socket, 'dead' when the socket file is there and refuses
 * (its process is gone), 'absent' when there is no socket file. Anything else (no permission, a full
 * backlog, no answer in 2 s) counts as alive: when in doubt, nothing is removed.
 */
export function ownerState(socketPath: string): Promise<OwnerState> {
  return new Promise((resolve) => {
    const socket = createConnection(socketPath);
    const timer = setTimeout(() => finish('alive'), CONNECT_DEADLINE_MS);
    const finish = (state: OwnerState): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(state);
    };
    socket.once('connect', () => finish('alive'));
    socket.once('error', (error: NodeJS.ErrnoException) => finish(error.code === 'ECONNREFUSED' ? 'dead' : error.code === 'ENOENT' ? 'absent' : 'alive'));
  });
}
