import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { basename, dirname } from 'node:path';
import { ambientTranscript, type TranscriptRecorder } from '../core/transcript.js';
import { DeadlineError } from '../core/errors.js';
import { withDeadline } from '../core/deadline.js';
import type { QmpCommandMap, QmpVersion } from './commands.js';
import { QmpDisconnectedError, QmpExecuteError, QmpProtocolError } from './errors.js';
import { abortable, abortReason, connectUnixSocket, JsonLineSplitter } from './transport.js';

export type QmpState = 'idle' | 'connecting' | 'running' | 'disconnecting' | 'disconnected';

export interface QmpEvent {
  event: string;
  data: Record<string, unknown>;
  timestamp: { seconds: number; microseconds: number };
  /** performance.now() when the event arrived. */
  receivedAt: number;
}

export interface QmpGreeting {
  QMP: { version: QmpVersion; capabilities: string[] };
}

interface Pending {
  command: string;
  args: Record<string, unknown> | undefined;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

const DEFAULT_CALL_TIMEOUT_MS = 30_000;

/** `subset` matches when every key of it deep-equals the same key of `value`. */
export function matchesSubset(value: unknown, subset: unknown): boolean {
  if (subset === null || typeof subset !== 'object') return value === subset;
  if (value === null || typeof value !== 'object') return false;
  return Object.entries(subset).every(([key, expected]) => matchesSubset((value as Record<string, unknown>)[key], expected));
}

/** Typed listeners for the two events a QmpClient emits. */
export interface QmpClient {
  on(event: 'event', listener: (event: QmpEvent) => void): this;
  on(event: 'disconnect', listener: (reason: Error | undefined) => void): this;
  once(event: 'event', listener: (event: QmpEvent) => void): this;
  once(event: 'disconnect', listener: (reason: Error | undefined) => void): this;
  off(event: 'event', listener: (event: QmpEvent) => void): this;
  off(event: 'disconnect', listener: (reason: Error | undefined) => void): this;
}

/**
 * A QMP client over a unix socket, after QEMU's Python library: greeting, then
 * `qmp_capabilities`, then the reader loop; replies routed by generated id, events on their own
 * path ('event'), and every pending call rejected the moment the socket drops.
 */
export class QmpClient extends EventEmitter {
  private stateValue: QmpState = 'idle';
  private readonly pending = new Map<string, Pending>();
  private readonly splitter = new JsonLineSplitter();
  private nextId = 1;
  private greetingValue: QmpGreeting | undefined;
  private greetingWaiter: { resolve(g: QmpGreeting): void; reject(e: Error): void } | undefined;
  private closeReason: Error | undefined;
  /** The QEMU's run folder names it in a transcript (a migration's source and destination differ). */
  private readonly channel: string;

  private constructor(
    private readonly socket: Socket,
    readonly socketPath: string,
    private recorder: TranscriptRecorder | undefined,
  ) {
    super();
    this.setMaxListeners(100);
    this.channel = `qmp:${basename(dirname(socketPath))}`;
  }

  /** `recorder` (default: the ambient one of the cell connecting) gets every line both ways. */
  static async connect(socketPath: string, options: { timeoutMs?: number; signal?: AbortSignal; recorder?: TranscriptRecorder } = {}): Promise<QmpClient> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const started = performance.now();
    const socket = await connectUnixSocket(socketPath, { timeoutMs, ...(options.signal ? { signal: options.signal } : {}) });
    const client = new QmpClient(socket, socketPath, options.recorder ?? ambientTranscript());
    client.stateValue = 'connecting';
    client.attach();
    try {
      const remaining = Math.max(1_000, timeoutMs - (performance.now() - started));
      const greeting = await withDeadline(
        abortable(new Promise<QmpGreeting>((resolve, reject) => (client.greetingWaiter = { resolve, reject })), options.signal),
        remaining,
        `the QMP greeting on ${socketPath}`,
      );
      client.greetingValue = greeting;
      // Capabilities negotiation is the last step of 'connecting'; only then may callers send.
      await abortable(client.send('qmp_capabilities', undefined, remaining), options.signal);
      client.stateValue = 'running';
      return client;
    } catch (error) {
      await client.close();
      throw error;
    }
  }

  /** Record into `recorder` from now on (a QEMU started ahead of the cell that adopts it). */
  setRecorder(recorder: TranscriptRecorder | undefined, note?: string): void {
    if (recorder === this.recorder) return;
    this.recorder = recorder;
    if (note) recorder?.record('qmp', this.channel, '!', note);
  }

  get state(): QmpState {
    return this.stateValue;
  }

  get greeting(): QmpGreeting {
    if (!this.greetingValue) throw new QmpProtocolError('no QMP greeting received yet');
    return this.greetingValue;
  }

  execute<K extends keyof QmpCommandMap>(
    command: K,
    args?: QmpCommandMap[K]['args'],
    options: { timeoutMs?: number } = {},
  ): Promise<QmpCommandMap[K]['returns']> {
    return this.executeRaw(command, args as Record<string, unknown> | undefined, options) as Promise<QmpCommandMap[K]['returns']>;
  }

  /** Untyped escape hatch for commands outside the map. */
  executeRaw(command: string, args?: Record<string, unknown>, options: { timeoutMs?: number } = {}): Promise<unknown> {
    if (this.stateValue !== 'running') {
      return Promise.reject(
        new QmpDisconnectedError(`cannot send ${command}: QMP connection is ${this.stateValue}`, this.closeReason ? { cause: this.closeReason } : {}),
      );
    }
    return this.send(command, args, options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS);
  }

  /** Send with a generated id; the reader routes the reply back by that id. */
  private send(command: string, args: Record<string, unknown> | undefined, timeoutMs: number): Promise<unknown> {
    const id = `bw-${this.nextId++}`;
    const reply = new Promise<unknown>((resolve, reject) => {
      this.pending.set(id, { command, args, resolve, reject });
    });
    const message = { execute: command, ...(args && Object.keys(args).length > 0 ? { arguments: args } : {}), id };
    const line = JSON.stringify(message);
    this.recorder?.record('qmp', this.channel, '>', line);
    this.socket.write(`${line}\n`);
    return withDeadline(reply, timeoutMs, `QMP reply to ${command}`).catch((error: unknown) => {
      if (error instanceof DeadlineError) this.pending.delete(id);
      throw error;
    });
  }

  /**
   * Subscribe now — before sending the command that triggers the event — and resolve with the
   * first event named `name` whose data contains `match`.
   */
  waitForEvent(name: string, options: { match?: Record<string, unknown>; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<QmpEvent> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    if (this.stateValue === 'disconnected' || this.stateValue === 'disconnecting') {
      return Promise.reject(
        new QmpDisconnectedError(`cannot wait for event ${name}: QMP connection is ${this.stateValue}`, this.closeReason ? { cause: this.closeReason } : {}),
      );
    }
    if (options.signal?.aborted) return Promise.reject(abortReason(options.signal));
    let cleanup = (): void => undefined;
    const seen = new Promise<QmpEvent>((resolve, reject) => {
      const onEvent = (event: QmpEvent): void => {
        if (event.event === name && (!options.match || matchesSubset(event.data, options.match))) {
          cleanup();
          resolve(event);
        }
      };
      const onDisconnect = (error: Error | undefined): void => {
        cleanup();
        reject(new QmpDisconnectedError(`QMP connection closed while waiting for event ${name}`, error ? { cause: error } : {}));
      };
      const onAbort = (): void => {
        cleanup();
        reject(abortReason(options.signal));
      };
      cleanup = () => {
        this.off('event', onEvent);
        this.off('disconnect', onDisconnect);
        options.signal?.removeEventListener('abort', onAbort);
      };
      this.on('event', onEvent);
      this.on('disconnect', onDisconnect);
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
    const what = `QMP event ${name}${options.match ? ` matching ${JSON.stringify(options.match)}` : ''}`;
    return withDeadline(seen, timeoutMs, what).catch((error: unknown) => {
      cleanup();
      throw error;
    });
  }

  /** Idempotent; pending calls are rejected with QmpDisconnectedError. */
  async close(): Promise<void> {
    if (this.stateValue === 'disconnected') return;
    if (this.stateValue !== 'disconnecting') {
      this.stateValue = 'disconnecting';
      // Reject first, so nothing pending sees the socket's close as "QEMU exited".
      this.shutDown(undefined);
    }
    await new Promise<void>((resolve) => {
      if (this.socket.destroyed && this.socket.closed) return resolve();
      this.socket.once('close', () => resolve());
      this.socket.destroy();
    });
  }

  private attach(): void {
    this.socket.on('data', (chunk: Buffer) => {
      for (const line of this.splitter.push(chunk)) {
        this.recorder?.record('qmp', this.channel, '<', line);
        this.handleLine(line);
      }
    });
    this.socket.on('error', (error) => {
      this.closeReason = error;
    });
    this.socket.on('close', () => {
      this.recorder?.record('qmp', this.channel, '!', `connection closed${this.closeReason ? `: ${this.closeReason.message}` : ''}`);
      this.shutDown(new QmpDisconnectedError(`QMP connection to ${this.socketPath} closed (QEMU exited?)`, this.closeReason ? { cause: this.closeReason } : {}));
    });
  }

  private handleLine(line: string): void {
    if (this.stateValue === 'disconnected') return;
    let message: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(line);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
      message = parsed as Record<string, unknown>;
    } catch (error) {
      // The stream is corrupt: a reply may have been lost, so nothing pending can be trusted.
      this.fail(new QmpProtocolError(`unparsable QMP message from ${this.socketPath}: ${line.slice(0, 200)}`, { cause: error, details: { line: line.slice(0, 1000) } }));
      return;
    }
    if (this.greetingWaiter) {
      if (!isGreeting(message)) {
        this.fail(new QmpProtocolError(`expected a QMP greeting from ${this.socketPath}, got: ${line.slice(0, 200)}`, { details: { line: line.slice(0, 1000) } }));
        return;
      }
      this.greetingWaiter.resolve(message);
      this.greetingWaiter = undefined;
      return;
    }
    if (typeof message.event === 'string') {
      const event: QmpEvent = {
        event: message.event,
        data: (message.data as Record<string, unknown> | undefined) ?? {},
        timestamp: message.timestamp as QmpEvent['timestamp'],
        receivedAt: performance.now(),
      };
      this.emit('event', event);
      return;
    }
    const id = typeof message.id === 'string' ? message.id : undefined;
    const call = id ? this.pending.get(id) : undefined;
    if (!call || !id) return; // a reply to a call that already timed out
    this.pending.delete(id);
    if ('return' in message) {
      call.resolve(message.return);
    } else {
      const error = (message.error ?? {}) as { class?: string; desc?: string };
      call.reject(new QmpExecuteError(call.command, call.args, error.class ?? 'Unknown', error.desc ?? JSON.stringify(message), message));
    }
  }

  /** A protocol violation: reject the greeting wait with it, every pending call, then drop the socket. */
  private fail(error: QmpProtocolError): void {
    const waiter = this.greetingWaiter;
    this.greetingWaiter = undefined;
    waiter?.reject(error);
    this.shutDown(error);
    this.socket.destroy();
  }

  /**
   * Every pending call is rejected at once and later calls fail fast. `reason` is undefined for
   * a close we asked for, which is also what 'disconnect' listeners receive.
   */
  private shutDown(reason: Error | undefined): void {
    if (this.stateValue === 'disconnected') return;
    this.stateValue = 'disconnected';
    if (reason) this.closeReason ??= reason;
    const cause = reason ? { cause: reason } : {};
    this.greetingWaiter?.reject(new QmpProtocolError(`QMP socket ${this.socketPath} closed before the greeting`, cause));
    this.greetingWaiter = undefined;
    const why = reason ? 'QMP connection lost' : 'QMP connection closed by bothworlds';
    for (const call of this.pending.values()) {
      call.reject(new QmpDisconnectedError(`${why} while waiting for the reply to ${call.command}`, cause));
    }
    this.pending.clear();
    this.emit('disconnect', reason);
  }
}

function isGreeting(message: Record<string, unknown>): message is QmpGreeting & Record<string, unknown> {
  const qmp = message.QMP as { version?: { qemu?: { major?: unknown } }; capabilities?: unknown } | undefined;
  return typeof qmp === 'object' && qmp !== null && typeof qmp.version?.qemu?.major === 'number' && Array.isArray(qmp.capabilities);
}
