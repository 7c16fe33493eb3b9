import { createConnection, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConsoleLine } from '../../model/result.js';
import type { LineBuffer } from '../line-source.js';
import type { ResourceScope } from '../../core/scope.js';

/**
 * Reads a virtio-serial port's host side (a QEMU chardev server socket) into the line buffer.
 * QEMU creates the socket at start-up; connecting retries briefly until it exists.
 */
export async function attachPortReader(
  path: string,
  source: ConsoleLine['source'],
  lines: LineBuffer,
  scope: ResourceScope,
  timeoutMs = 10_000,
): Promise<Socket> {
  const started = performance.now();
  for (;;) {
    try {
      const socket = await connect(path);
      const handle = scope.register({
        name: `${source} port ${path}`,
        kind: 'socket',
        dispose: async () => {
          socket.destroy();
        },
        disposeSync: () => socket.destroy(),
      });
      socket.on('data', (chunk: Buffer) => lines.feed(source, chunk));
      socket.on('close', () => {
        lines.flush(source);
        handle.release();
      });
      socket.on('error', () => undefined);
      return socket;
    } catch (error) {
      if (performance.now() - started > timeoutMs) throw error;
      await sleep(5);
    }
  }
}

function connect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}
