import type { Socket } from 'node:net';
import type { ConsoleLine } from '../model/result.js';
import type { MachineSpec } from '../model/machine-spec.js';
import type { LineSource } from './machine.js';

/** Milliseconds between beats while the host measures (the downtime's resolution). */
export const MEASURING_INTERVAL_MS = 5;
/** How long a guest that runs bothworlds' heartbeat may take to acknowledge a new pace. */
const ACK_TIMEOUT_MS = 2_000;

/**
 * The pace of the guest's heartbeat (`bw-heartbeat`, guest/tools): slow while idle, every 5 ms
 * while the host measures something with it (a live migration's downtime). An idle TCG guest
 * beating every 5 ms spends ~10% of a core on it, and the harness as much again reading the lines:
 * with eight cells at once that was over a core of a 2-core host. Measurements may overlap: the
 * pace goes back to idle when the last one ends. The command goes to whichever port is the
 * guest's now (a migrated guest's is the destination's).
 */
export class HeartbeatPace {
  private measuring = 0;
  /** Measurements waiting for the guest to acknowledge the fast pace. */
  private waiters: Array<(acknowledged: boolean) => void> = [];

  constructor(
    lines: LineSource,
    private readonly port: () => Socket | undefined,
    /** Whether the guest runs bothworlds' heartbeat (its images do; a user's kernel or disk need not). */
    private readonly expectsHeartbeat: boolean,
  ) {
    lines.on('line', (line: ConsoleLine) => this.onLine(line));
  }

  /**
   * Beat every 5 ms until `idle()`. Resolves with the interval the guest acknowledged, or
   * undefined when it did not within 2 s (no heartbeat in this guest, one too old to take
   * commands, a paused guest): the caller records what resolution its measurement had.
   */
  async measure(): Promise<number | undefined> {
    this.measuring++;
    if (!this.send(`interval ${MEASURING_INTERVAL_MS}\n`) || !this.expectsHeartbeat) return undefined;
    const acknowledged = new Promise<boolean>((wake) => this.waiters.push(wake));
    const timer = setTimeout(() => this.settle(false), ACK_TIMEOUT_MS);
    try {
      return (await acknowledged) ? MEASURING_INTERVAL_MS : undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  /** One measurement ended: the last one sets the guest's idle pace again. */
  idle(): void {
    this.measuring = Math.max(0, this.measuring - 1);
    if (this.measuring === 0) this.send('idle\n');
  }

  private send(command: string): boolean {
    const socket = this.port();
    if (!socket || socket.destroyed || !socket.writable) return false;
    socket.write(command);
    return true;
  }

  private settle(acknowledged: boolean): void {
    for (const wake of this.waiters.splice(0)) wake(acknowledged);
  }

  private onLine(line: ConsoleLine): void {
    if (line.source !== 'heartbeat' || this.waiters.length === 0) return;
    if (parseBeat(line.text)?.intervalMs === MEASURING_INTERVAL_MS) this.settle(true);
  }
}

/** bothworlds' own images run its heartbeat; a user's kernel and initrd or disk need not. */
export function hasBothworldsHeartbeat(spec: Pick<MachineSpec, 'image'>): boolean {
  return spec.image.kind === 'default' || spec.image.kind === 'distro';
}

/** One heartbeat line: `hb <seq> <CLOCK_MONOTONIC ns> <CLOCK_REALTIME ns> <interval ms>` (older guests: no interval). */
export interface Beat {
  seq: number;
  monotonicMs: number;
  intervalMs?: number;
}

export function parseBeat(text: string): Beat | undefined {
  const match = /^hb (\d+) (\d+) \d+(?: (\d+))?/.exec(text);
  if (!match) return undefined;
  return { seq: Number(match[1]), monotonicMs: Number(match[2]) / 1e6, ...(match[3] ? { intervalMs: Number(match[3]) } : {}) };
}
