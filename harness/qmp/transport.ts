import { createConnection, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeadlineError } from '../core/errors.js';

/**
 * Connect to a unix socket that may not exist yet (QEMU creates its sockets a few ms after
 * start): retry until it accepts or the deadline passes.
 */
export async function connectUnixSocket(path: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<Socket> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const started = performance.now();
  let lastError: unknown;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const socket = createConnection(path);
        socket.once('connect', () => {
          socket.removeListener('error', reject);
          resolve(socket);
        });
        socket.once('error', reject);
      });
    } catch (error) {
      lastError = error;
    }
    if (performance.now() - started >= timeoutMs) {
      throw new DeadlineError(`${path} to accept a connection`, timeoutMs, (lastError as NodeJS.ErrnoException | undefined)?.code, { cause: lastError });
    }
    await sleep(5);
  }
}

/**
 * Splits a byte stream into JSON lines. `skipBytes` drops framing bytes (the guest agent answers
 * guest-sync-delimited with 0xFF before its reply) wherever they appear.
 */
export class JsonLineSplitter {
  private pending = '';

  constructor(private readonly skipFF = false) {}

  /** Feed a chunk; returns the complete lines it finished (trimmed, non-empty). */
  push(chunk: Buffer): string[] {
    let data = chunk;
    if (this.skipFF && data.includes(0xff)) data = Buffer.from(data.filter((b) => b !== 0xff));
    this.pending += data.toString('utf8');
    const parts = this.pending.split('\n');
    this.pending = parts.pop() ?? '';
    return parts.map((p) => p.trim()).filter((p) => p.length > 0);
  }

  /** Forget a partial line (after a resync). */
  reset(): void {
    this.pending = '';
  }
}
