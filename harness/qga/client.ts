import type { Socket } from 'node:net';
import { basename, dirname } from 'node:path';
import { ambientTranscript, type TranscriptRecorder } from '../core/transcript.js';
import { randomInt } from 'node:crypto';
import { ConfigError, DeadlineError } from '../core/errors.js';
import { withDeadline } from '../core/deadline.js';
import { abortable, connectUnixSocket, JsonLineSplitter } from '../qmp/transport.js';
import type { ExecResult } from '../model/exec-result.js';
import { AgentDisconnectedError, AgentError, AgentSilentError } from './errors.js';
import { runToCompletion, guestExecArguments } from './exec.js';
import { readGuestFile, writeGuestFile } from './files.js';

export interface GuestVcpu {
  'logical-id': number;
  online: boolean;
  'can-offline'?: boolean;
}

export interface GuestExecStatus {
  exited: boolean;
  exitcode?: number;
  signal?: number;
  'out-data'?: string;
  'err-data'?: string;
  'out-truncated'?: boolean;
  'err-truncated'?: boolean;
}

export interface GuestExecOptions {
  timeoutMs?: number;
  input?: string | Buffer;
  env?: Record<string, string>;
}

const RESYNC_EVERY_MS = 500;

/**
 * The QEMU guest agent over its chardev socket. No negotiation: every conversation starts with
 * 0xFF + guest-sync-delimited and skips whatever stale bytes precede the matching reply. Commands
 * are strictly one at a time (the agent has no ids), so calls queue.
 */
export class GuestAgent {
  private readonly splitter = new JsonLineSplitter(true);
  private waiter: ((message: Received | 'closed') => void) | undefined;
  private closed = false;
  private closeReason: Error | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private synced = false;
  /** performance.now() of the last byte received: resyncs wait while data still flows. */
  private lastDataAt = Number.NEGATIVE_INFINITY;

  private readonly channel: string;

  private constructor(
    private readonly socket: Socket,
    readonly socketPath: string,
    private recorder: TranscriptRecorder | undefined,
  ) {
    this.channel = `qga:${basename(dirname(socketPath))}`;
    socket.on('data', (chunk: Buffer) => {
      this.lastDataAt = performance.now();
      for (const line of this.splitter.push(chunk)) {
        this.recorder?.record('agent', this.channel, '<', line);
        let message: unknown;
        try {
          message = JSON.parse(line);
        } catch {
          continue; // garbage from before a resync (the agent restarted mid-reply)
        }
        if (message !== null && typeof message === 'object') this.waiter?.({ message: message as Record<string, unknown>, line });
      }
    });
    socket.on('error', (error) => (this.closeReason = error));
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.('closed');
    });
  }

  /** `recorder` (default: the ambient one of the cell connecting) gets every line both ways. */
  static async connect(socketPath: string, options: { timeoutMs?: number; signal?: AbortSignal; recorder?: TranscriptRecorder } = {}): Promise<GuestAgent> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const started = performance.now();
    const socket = await connectUnixSocket(socketPath, { timeoutMs, ...(options.signal ? { signal: options.signal } : {}) });
    const agent = new GuestAgent(socket, socketPath, options.recorder ?? ambientTranscript());
    try {
      await agent.sync(Math.max(1_000, timeoutMs - (performance.now() - started)), options.signal);
      return agent;
    } catch (error) {
      await agent.close();
      throw error;
    }
  }

  /**
   * Resynchronise: send 0xFF and guest-sync-delimited with a fresh id every 500 ms of silence
   * (bytes sent before qemu-ga opened the port are answered once it starts) until that id
   * comes back; anything else is a stale reply and is dropped.
   */
  sync(timeoutMs = 10_000, signal?: AbortSignal): Promise<void> {
    return this.serialised(async () => {
      await this.syncNow(timeoutMs, signal);
    });
  }

  /** Record into `recorder` from now on (an agent connected ahead of the cell that adopts it). */
  setRecorder(recorder: TranscriptRecorder | undefined, note?: string): void {
    if (recorder === this.recorder) return;
    this.recorder = recorder;
    if (note) recorder?.record('agent', this.channel, '!', note);
  }

  ping(options: { timeoutMs?: number } = {}): Promise<void> {
    return this.command<Record<string, never>>('guest-ping', undefined, options).then(() => undefined);
  }

  /** `supported_commands` is qemu-ga's own spelling. */
  info(): Promise<{ version: string; supported_commands: Array<{ name: string; enabled: boolean; 'success-response': boolean }> }> {
    return this.command('guest-info');
  }

  getVcpus(): Promise<GuestVcpu[]> {
    return this.command('guest-get-vcpus');
  }

  setVcpus(vcpus: Array<{ 'logical-id': number; online: boolean }>): Promise<number> {
    return this.command('guest-set-vcpus', { vcpus });
  }

  /** Renamed from qemu-ga's wire names (`phys-index`, `can-offline`) to the harness's API. */
  async getMemoryBlocks(): Promise<Array<{ phys_index: number; online: boolean; can_offline?: boolean }>> {
    const blocks = await this.command<Array<{ 'phys-index': number; online: boolean; 'can-offline'?: boolean }>>('guest-get-memory-blocks');
    return blocks.map((b) => ({ phys_index: b['phys-index'], online: b.online, ...(b['can-offline'] !== undefined ? { can_offline: b['can-offline'] } : {}) }));
  }

  /** Nanoseconds since the epoch, as the guest sees it; exact (read from the reply text, past 2^53). */
  async getTime(): Promise<bigint> {
    const { line } = await this.exchange('guest-get-time');
    const digits = /"return"\s*:\s*(-?\d+)/.exec(line)?.[1];
    if (!digits) throw new AgentError('guest-get-time', 'BadReply', `not an integer: ${line.slice(0, 200)}`);
    return BigInt(digits);
  }

  /** Set the guest clock (to the host's now when omitted); needs /sbin/hwclock in the guest. */
  async setTime(ns?: bigint): Promise<void> {
    // timeOrigin + now() is the epoch with microsecond resolution; Date.now() has only ms.
    const value = ns ?? BigInt(Math.round((performance.timeOrigin + performance.now()) * 1_000)) * 1_000n;
    await this.exchange('guest-set-time', { time: value });
  }

  execStart(command: string[], options: GuestExecOptions = {}): Promise<number> {
    if (!command[0]) return Promise.reject(new ConfigError('QGA_EXEC_EMPTY', 'guest exec needs a command (got an empty argv)'));
    return this.command<{ pid: number }>('guest-exec', guestExecArguments(command, options)).then((r) => r.pid);
  }

  execStatus(pid: number): Promise<GuestExecStatus> {
    return this.command('guest-exec-status', { pid });
  }

  /**
   * Run a command to completion: polls fast at first (5 ms) backing off to 50 ms. On timeout the
   * process tree is killed and the result comes back with `timedOut: true` and the output so far.
   */
  exec(command: string[], options: GuestExecOptions = {}): Promise<ExecResult> {
    return runToCompletion(this, command, options);
  }

  /** guest-file-open/write/close in 48 KiB chunks; `mode` (e.g. 0o755) applied with chmod. */
  writeFile(path: string, data: Buffer | string, mode?: number): Promise<void> {
    return writeGuestFile(this, path, data, mode);
  }

  /** guest-file-read in 1 MiB requests until eof. */
  readFile(path: string): Promise<Buffer> {
    return readGuestFile(this, path);
  }

  /** Any agent command. A timeout leaves the stream unsynchronised: the next call resyncs first. */
  async command<T>(name: string, args?: Record<string, unknown>, options: { timeoutMs?: number } = {}): Promise<T> {
    return (await this.exchange(name, args, options)).message.return as T;
  }

  /** One request and its reply (message and raw text), strictly after any earlier one. */
  private exchange(name: string, args?: Record<string, unknown>, options: { timeoutMs?: number } = {}): Promise<Received> {
    return this.serialised(async () => {
      if (this.closed) throw this.disconnected();
      if (!this.synced) await this.syncNow(options.timeoutMs ?? 10_000);
      const reply = this.nextMessage();
      this.write(`${toJson({ execute: name, ...(args ? { arguments: args } : {}) })}\n`);
      let received: Received;
      try {
        received = await withDeadline(reply, options.timeoutMs ?? 30_000, `guest agent reply to ${name}`);
      } catch (error) {
        this.waiter = undefined;
        this.synced = false;
        throw error;
      }
      const { message } = received;
      if ('error' in message) {
        const error = message.error as { class?: string; desc?: string };
        throw new AgentError(name, error.class ?? 'Unknown', error.desc ?? JSON.stringify(message));
      }
      return received;
    });
  }

  async close(): Promise<void> {
    if (this.socket.destroyed) return;
    await new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.destroy();
    });
  }

  private async syncNow(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      signal?.throwIfAborted();
      const id = randomInt(1, 2 ** 31);
      // Only the newest id counts: an answer to an earlier one is followed by the newest's.
      const answered = this.nextMessage((m) => m.return === id);
      this.write(Buffer.concat([Buffer.from([0xff]), Buffer.from(`${JSON.stringify({ execute: 'guest-sync-delimited', arguments: { id } })}\n`)]));
      // Wait while bytes keep coming (a long stale reply is not silence); resend after 500 ms of none.
      for (;;) {
        const remaining = deadline - performance.now();
        try {
          await withDeadline(abortable(answered, signal), Math.max(1, Math.min(RESYNC_EVERY_MS, remaining)), 'guest-sync');
          this.synced = true;
          return;
        } catch (error) {
          if (!(error instanceof DeadlineError)) {
            this.waiter = undefined;
            throw error;
          }
          if (performance.now() >= deadline) {
            this.waiter = undefined;
            throw new AgentSilentError(`guest agent on ${this.socketPath} did not answer guest-sync within ${timeoutMs} ms`, { cause: error });
          }
          signal?.throwIfAborted();
          if (performance.now() - this.lastDataAt >= RESYNC_EVERY_MS) break;
        }
      }
      this.waiter = undefined;
    }
  }

  /** The next message (optionally the next one accepted by `accept`); rejects when the socket closes. */
  private nextMessage(accept: (m: Record<string, unknown>) => boolean = () => true): Promise<Received> {
    if (this.closed) return Promise.reject(this.disconnected());
    return new Promise((resolve, reject) => {
      this.waiter = (received) => {
        if (received === 'closed') {
          this.waiter = undefined;
          reject(this.disconnected());
        } else if (accept(received.message)) {
          this.waiter = undefined;
          resolve(received);
        }
      };
    });
  }

  private write(data: string | Buffer): void {
    if (this.closed) throw this.disconnected();
    // The resync's 0xFF byte is not text: the transcript shows the command after it.
    this.recorder?.record('agent', this.channel, '>', (typeof data === 'string' ? data : data.subarray(data[0] === 0xff ? 1 : 0).toString()).trimEnd());
    this.socket.write(data);
  }

  private disconnected(): AgentDisconnectedError {
    return new AgentDisconnectedError(`guest agent socket ${this.socketPath} closed`, this.closeReason ? { cause: this.closeReason } : {});
  }

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

interface Received {
  message: Record<string, unknown>;
  /** The reply's text: integers past 2^53 (nanosecond times) lose precision in JSON.parse. */
  line: string;
}

/** JSON.stringify that writes bigints as exact integer literals. */
export function toJson(value: unknown): string {
  const marker = '\u0000bigint:';
  const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${marker}${v}` : v));
  return text.replace(/"\\u0000bigint:(-?\d+)"/g, '$1');
}
