import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { DeadlineError } from '../core/errors.js';
import { withDeadline } from '../core/deadline.js';
import type { QmpCommandMap, QmpVersion } from './commands.js';
import { QmpDisconnectedError, QmpExecuteError, QmpProtocolError } from './errors.js';
import { connectUnixSocket, JsonLineSplitter } from './transport.js';

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

  private constructor(
    private readonly socket: Socket,
    readonly socketPath: string,
  ) {
    super();
    this.setMaxListeners(100);
  }

  static async connect(socketPath: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<QmpClient> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const started = performance.now();
    const socket = await connectUnixSocket(socketPath, { timeoutMs, ...(options.signal ? { signal: options.signal } : {}) });
    const client = new QmpClient(socket, socketPath);
    client.stateValue = 'connecting';
    client.attach();
    try {
      const remaining = Math.max(1_000, timeoutMs - (performance.now() - started));
      const greeting = await withDeadline(
        new Promise<QmpGreeting>((resolve, reject) => (client.greetingWaiter = { resolve, reject })),
        remaining,
        `the QMP greeting on ${socketPath}`,
      );
      client.greetingValue = greeting;
      client.stateValue = 'running';
      await client.execute('qmp_capabilities', undefined, { timeoutMs: remaining });
      return client;
    } catch (error) {
      await client.close();
      throw error;
    }
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
    const id = `bw-${this.nextId++}`;
    const timeoutMs = options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    const reply = new Promise<unknown>((resolve, reject) => {
      this.pending.set(id, { command, args, resolve, reject });
    });
    const message = { execute: command, ...(args && Object.keys(args).length > 0 ? { arguments: args } : {}), id };
    this.socket.write(`${JSON.stringify(message)}\n`);
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
        reject(options.signal?.reason ?? new Error('aborted'));
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
    this.stateValue = 'disconnecting';
    await new Promise<void>((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once('close', () => resolve());
      this.socket.destroy();
    });
    this.shutDown(new QmpDisconnectedError(`QMP connection to ${this.socketPath} closed by bothworlds`));
  }

  private attach(): void {
    this.socket.on('data', (chunk: Buffer) => {
      for (const line of this.splitter.push(chunk)) this.handleLine(line);
    });
    this.socket.on('error', (error) => {
      this.closeReason = error;
    });
    this.socket.on('close', () => {
      this.shutDown(new QmpDisconnectedError(`QMP connection to ${this.socketPath} closed (QEMU exited?)`, this.closeReason ? { cause: this.closeReason } : {}));
    });
  }

  private handleLine(line: string): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line) as Record<string, unknown>;
    } catch (error) {
      this.emit('protocol-error', new QmpProtocolError(`unparsable QMP line: ${line.slice(0, 200)}`, { cause: error }));
      return;
    }
    if ('QMP' in message) {
      this.greetingWaiter?.resolve(message as unknown as QmpGreeting);
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

  private shutDown(reason: Error): void {
    if (this.stateValue === 'disconnected') return;
    this.stateValue = 'disconnected';
    this.closeReason ??= reason;
    this.greetingWaiter?.reject(new QmpProtocolError(`QMP socket closed before the greeting`, { cause: reason }));
    this.greetingWaiter = undefined;
    for (const call of this.pending.values()) {
      call.reject(new QmpDisconnectedError(`QMP connection lost while waiting for the reply to ${call.command}`, { cause: reason }));
    }
    this.pending.clear();
    this.emit('disconnect', reason);
  }
}
