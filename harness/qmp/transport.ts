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
 * Splits a byte stream into JSON lines, on bytes rather than strings so a multi-byte UTF-8
 * character split across two chunks survives. With `delimitedByFF` (the guest agent), a 0xFF
 * byte discards the partial line before it: qemu-ga prefixes its guest-sync-delimited reply with
 * 0xFF precisely so a client can drop whatever half-message preceded it.
 */
export class JsonLineSplitter {
  private pending: Buffer[] = [];

  constructor(private readonly delimitedByFF = false) {}

  /** Feed a chunk; returns the complete lines it finished (trimmed, non-empty). */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    let ff = this.delimitedByFF ? chunk.indexOf(0xff) : -1;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      if (ff >= 0 && ff < start) ff = chunk.indexOf(0xff, start);
      if (ff >= 0 && (newline < 0 || ff < newline)) {
        this.pending = [];
        start = ff + 1;
      } else if (newline >= 0) {
        this.pending.push(chunk.subarray(start, newline));
        const line = Buffer.concat(this.pending).toString('utf8').trim();
        this.pending = [];
        if (line.length > 0) lines.push(line);
        start = newline + 1;
      } else {
        break;
      }
    }
    if (start < chunk.length) this.pending.push(Buffer.from(chunk.subarray(start)));
    return lines;
  }

  /** Forget a partial line. */
  reset(): void {
    this.pending = [];
  }
}

/** The abort reason as an Error (AbortSignal.reason may be anything). */
export function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new Error(`aborted${reason === undefined ? '' : `: ${String(reason)}`}`);
}

/** Rejects as soon as `signal` aborts; otherwise settles like `work`. */
export function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
