import { connect, type Socket } from 'node:net';
import { DeadlineError } from '../core/errors.js';
import type { ForwardTarget } from './port-forward.js';

/**
 * What one probe does. `tcp`: connect, wait `settleMs`, half-close, and wait for the server to close
 * in turn; the connect alone proves nothing through user-mode networking (slirp accepts on the host
 * before the guest has answered), but the server's FIN does: the guest ran, its TCP stack and the
 * application's accept loop both answered. The wait matters: slirp, told of our half-close while its
 * own connection to the guest is still being set up, closes ours cleanly — a FIN that looked like a
 * live server when the guest was slow to refuse (a restored clone under load). Data from the server
 * answers at once; a close or reset before the half-close is a failure. `http`: a GET that must
 * return a status line.
 */
export type Probe = { kind: 'tcp' } | { kind: 'http'; path: string };

export interface ProberOptions {
  target: ForwardTarget;
  probe: Probe;
  /** A new probe starts this often (while fewer than `maxInFlight` are open). */
  intervalMs?: number;
  /** A probe with no answer by then counts as failed. */
  attemptTimeoutMs?: number;
  maxInFlight?: number;
  /** Hard bounds: the prober stops by itself after this long or this many probes. */
  maxDurationMs?: number;
  maxAttempts?: number;
}

export interface ProbeSummary {
  attempts: number;
  succeeded: number;
  failed: number;
  /** The longest time without a successful answer (from start, between answers, to stop), ms. */
  longestGapMs: number;
  /** performance.now() at the gap's start. */
  gapStartedAt: number;
  durationMs: number;
  /** The last failure's message, if any. */
  lastError?: string;
}

/**
 * Measures the client-visible downtime of a service: probes every ~10 ms on loopback and records
 * when answers arrive. Bounded in count, time and concurrency.
 */
export class Prober {
  private readonly answers: number[] = [];
  private readonly waiters = new Set<() => void>();
  private readonly open = new Set<Socket>();
  private attempts = 0;
  private failed = 0;
  private lastError: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private stoppedAt: number | undefined;

  constructor(private readonly options: ProberOptions) {}

  start(): this {
    this.startedAt = performance.now();
    const interval = this.options.intervalMs ?? 10;
    this.timer = setInterval(() => this.tick(), interval);
    this.timer.unref();
    this.tick();
    return this;
  }

  /** Resolve at the next answer after now; DeadlineError otherwise. */
  async nextAnswer(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    let waiter!: () => void;
    try {
      await new Promise<void>((resolve, reject) => {
        waiter = resolve;
        this.waiters.add(waiter);
        timer = setTimeout(() => reject(new DeadlineError(`an answer through 127.0.0.1:${this.options.target.port}`, timeoutMs, this.lastError)), timeoutMs);
      });
    } finally {
      clearTimeout(timer);
      this.waiters.delete(waiter);
    }
  }

  stop(): ProbeSummary {
    if (this.stoppedAt === undefined) {
      this.stoppedAt = performance.now();
      clearInterval(this.timer);
      for (const socket of this.open) socket.destroy();
    }
    const stoppedAt = this.stoppedAt;
    const points = [this.startedAt, ...this.answers.filter((t) => t <= stoppedAt), stoppedAt];
    let longest = 0;
    let gapStartedAt = this.startedAt;
    for (let i = 1; i < points.length; i++) {
      if (points[i]! - points[i - 1]! > longest) {
        longest = points[i]! - points[i - 1]!;
        gapStartedAt = points[i - 1]!;
      }
    }
    return {
      attempts: this.attempts,
      succeeded: this.answers.length,
      failed: this.failed,
      longestGapMs: longest,
      gapStartedAt,
      durationMs: stoppedAt - this.startedAt,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  private tick(): void {
    const o = this.options;
    if (this.stoppedAt !== undefined) return;
    if (performance.now() - this.startedAt > (o.maxDurationMs ?? 300_000) || this.attempts >= (o.maxAttempts ?? 50_000)) {
      this.stop();
      return;
    }
    if (this.open.size >= (o.maxInFlight ?? 32)) return;
    this.attempts++;
    probeOnce(o.target, o.probe, o.attemptTimeoutMs ?? 1_000, this.open).then(
      () => {
        if (this.stoppedAt !== undefined) return;
        this.answers.push(performance.now());
        for (const waiter of this.waiters) waiter();
      },
      (error: Error) => {
        if (this.stoppedAt !== undefined) return;
        this.failed++;
        this.lastError = error.message;
      },
    );
  }
}

/** How long a `tcp` probe leaves the connection open before its half-close (see Probe). */
export const TCP_SETTLE_MS = 150;

/** One probe; resolves on an answer, rejects on refusal, reset or timeout. */
export function probeOnce(target: ForwardTarget, probe: Probe, timeoutMs: number, open?: Set<Socket>, settleMs = TCP_SETTLE_MS): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.host, port: target.port, noDelay: true });
    open?.add(socket);
    let received = '';
    let halfClosed = false;
    let settle: NodeJS.Timeout | undefined;
    const done = (error?: Error) => {
      clearTimeout(timer);
      clearTimeout(settle);
      open?.delete(socket);
      socket.destroy();
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(() => done(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    socket.on('error', (error) => done(error));
    socket.on('connect', () => {
      if (probe.kind === 'tcp') {
        settle = setTimeout(() => {
          halfClosed = true;
          socket.end('\r\n');
        }, settleMs);
      } else socket.write(`GET ${probe.path} HTTP/1.0\r\nHost: ${target.host}\r\nConnection: close\r\n\r\n`);
    });
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      // A server that speaks first (a banner) has answered.
      if ((probe.kind === 'http' && /^HTTP\/1\.[01] \d{3}/.test(received)) || probe.kind === 'tcp') done();
    });
    socket.on('end', () => {
      if (probe.kind === 'tcp') done(halfClosed ? undefined : new Error(`closed within ${settleMs} ms of connecting, before anything was asked (the guest refused or never answered)`));
      else done(new Error(received ? `not an HTTP answer: ${JSON.stringify(received.slice(0, 40))}` : 'closed without an answer'));
    });
    socket.on('close', () => done(new Error('closed')));
  });
}
