import type { ConsoleLine } from '../../../model/result.js';
import type { LineSource } from '../../machine.js';
import { parseBeat } from '../../heartbeat-pace.js';

export interface HeartbeatGap {
  /** Largest host-side gap between two consecutive heartbeat lines (ms). */
  largestGapMs: number;
  /** When that gap began, in the machine's clock (ms since origin). */
  gapStartMs: number;
  /** Heartbeat sequence numbers missing across the gap (lines lost, not just late). */
  missedBeats: number;
  /** Gap in the guest's own CLOCK_MONOTONIC across the largest host gap (ms): the guest barely sees downtime. */
  guestMonotonicGapMs: number;
  beats: number;
}

/**
 * Watch the guest's heartbeat (a line every few ms on a virtio-serial port) while something
 * happens to the machine: the largest gap between arrivals is the downtime as seen from outside.
 */
export class HeartbeatWatch {
  private last: { t: number; seq: number; mono: number } | undefined;
  private gap: HeartbeatGap = { largestGapMs: 0, gapStartMs: 0, missedBeats: 0, guestMonotonicGapMs: 0, beats: 0 };
  private readonly listener = (line: ConsoleLine) => this.onLine(line);
  private waiters: Array<() => void> = [];

  constructor(private readonly lines: LineSource) {
    lines.on('line', this.listener);
  }

  /** Resolves at the next heartbeat (or after `timeoutMs`). */
  nextBeat(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  stop(): HeartbeatGap {
    this.lines.removeListener('line', this.listener);
    return this.gap;
  }

  private onLine(line: ConsoleLine): void {
    if (line.source !== 'heartbeat') return;
    const parsed = parseBeat(line.text);
    if (!parsed) return;
    const beat = { t: line.t, seq: parsed.seq, mono: parsed.monotonicMs };
    this.gap.beats++;
    if (this.last && beat.t - this.last.t > this.gap.largestGapMs) {
      this.gap = {
        ...this.gap,
        largestGapMs: beat.t - this.last.t,
        gapStartMs: this.last.t,
        missedBeats: Math.max(0, beat.seq - this.last.seq - 1),
        guestMonotonicGapMs: beat.mono - this.last.mono,
      };
    }
    this.last = beat;
    for (const wake of this.waiters.splice(0)) wake();
  }
}
