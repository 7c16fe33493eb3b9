import { metric } from '../model/metrics.js';
import type { StartedMachine } from '../machines/machine.js';
import { Prober, type Probe } from '../net/prober.js';
import type { ForwardTarget } from '../net/port-forward.js';

/** When migrations ran, so a client's dropped connection at that time is understood. */
export class MigrationWindows {
  private active = 0;
  private begun = 0;
  private lastEnded = -Infinity;

  /** True during a migration and for `graceMs` after it (a client notices a closed connection late). */
  covers(now = performance.now(), graceMs = 2_000): boolean {
    return this.active > 0 || now - this.lastEnded < graceMs;
  }

  /** How many migrations have begun: a client marks its start, then asks whether one came since. */
  mark(): number {
    return this.begun;
  }

  /**
   * Whether a migration overlapped what started at `mark`: one is under way or just ended, or one
   * began since. A loaded host can delay a client's noticing its closed connection well past a fixed grace.
   */
  coversSince(mark: number, now = performance.now()): boolean {
    return this.covers(now) || this.begun > mark;
  }

  begin(): void {
    this.active++;
    this.begun++;
  }

  end(): void {
    this.active--;
    this.lastEnded = performance.now();
  }
}

/**
 * Wrap the machine's migrate control so a host-side prober runs through every migration: probes
 * every ~10 ms through the forwarded port; the longest time without an answer is the migration
 * event's `downtime_client_ms`, beside QEMU's figure and the heartbeat's.
 */
export function measureClientDowntime(machine: StartedMachine, target: ForwardTarget, probe: Probe, windows: MigrationWindows): void {
  const control = machine.controls.migrate;
  if (!control) return;
  const migrate = control.migrate.bind(control);
  machine.controls.migrate = {
    async migrate(options) {
      windows.begin();
      const prober = new Prober({ target, probe, maxDurationMs: (options.timeoutMs ?? 60_000) + 30_000 }).start();
      try {
        const report = await migrate(options);
        // The gap closes at the first answer from the destination (bounded: none is a gap to the end).
        if (report.status === 'completed') await prober.nextAnswer(10_000).catch(() => undefined);
        const summary = prober.stop();
        report.metrics.downtime_client_ms = metric(summary.longestGapMs, 'ms');
        report.metrics.client_probes = metric(summary.attempts, 'count');
        report.metrics.client_probe_failures = metric(summary.failed, 'count');
        report.detail = {
          ...report.detail,
          clientProbe: {
            probe: probe.kind === 'http' ? `GET ${probe.path}` : 'tcp connect, half-close, server close',
            port: target.port,
            answered: summary.succeeded,
            gapStartedMs: summary.gapStartedAt - machine.origin,
            ...(summary.lastError ? { lastError: summary.lastError } : {}),
          },
        };
        return report;
      } finally {
        prober.stop();
        windows.end();
      }
    },
  };
}
