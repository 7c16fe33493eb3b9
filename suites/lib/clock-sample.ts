import { InfrastructureError } from '../../harness/core/errors.js';
import type { StartedMachine } from '../../harness/machines/machine.js';

export interface ClockSample {
  /** ms since the machine's origin, host side, at the middle of the round trip */
  at: number;
  /** guest CLOCK_MONOTONIC (from /proc/uptime), seconds */
  monotonicS: number;
  /** guest wall clock minus host wall clock, ms, round trip halved */
  driftMs: number;
  roundTripMs: number;
}

// GNU date has %N; busybox (the default guest) does not, but its adjtimex prints tv_sec/tv_usec.
const SCRIPT = 'cat /proc/uptime; t=$(date +%s%N); case "$t" in *N) adjtimex | sed -n "s/.*tv_sec: *//p; s/.*tv_usec: *//p" | tr "\\n" " ";; *) echo "$t";; esac';

/**
 * The guest's reading: line 1 is /proc/uptime ("12.34 5.67"), line 2 the wall clock, either
 * nanoseconds since the epoch (GNU date +%s%N) or "sec usec" (busybox adjtimex).
 */
export function parseClockReading(stdout: string): { monotonicS: number; wallMs: number } | undefined {
  const [uptime, wall] = stdout.trim().split('\n');
  const monotonicS = Number(uptime?.trim().split(/\s+/)[0]);
  const parts = (wall ?? '').trim().split(/\s+/).filter(Boolean).map(Number);
  if (!Number.isFinite(monotonicS) || parts.length === 0 || parts.some((n) => !Number.isFinite(n))) return undefined;
  const wallMs = parts.length === 2 ? parts[0]! * 1000 + parts[1]! / 1000 : parts[0]! / 1e6;
  return { monotonicS, wallMs };
}

/**
 * Guest wall clock minus host wall clock: the guest read its clock somewhere within the round
 * trip, best estimated at its middle (host time when sent + round trip / 2).
 */
export function driftMs(guestWallMs: number, hostSentMs: number, roundTripMs: number): number {
  return guestWallMs - (hostSentMs + roundTripMs / 2);
}

/** One reading of the guest's clocks against the host's, through the same exec on every backend. */
export async function sampleClocks(machine: StartedMachine): Promise<ClockSample> {
  const sent = Date.now();
  const t0 = performance.now();
  const result = await machine.exec(['sh', '-c', SCRIPT], { timeoutMs: 15_000 });
  const roundTripMs = performance.now() - t0;
  const reading = parseClockReading(result.stdout);
  if (!reading) throw new InfrastructureError('CLOCK_READ', `cannot read the guest's clocks (exit ${result.exitCode}): ${JSON.stringify(result.stdout + result.stderr)}`);
  return { at: t0 + roundTripMs / 2 - machine.origin, monotonicS: reading.monotonicS, driftMs: driftMs(reading.wallMs, sent, roundTripMs), roundTripMs };
}

/** Where monotonic time went backwards between consecutive samples (it never may). */
export function monotonicRegressions(samples: ReadonlyArray<Pick<ClockSample, 'monotonicS'>>): Array<{ from: number; to: number }> {
  const backwards: Array<{ from: number; to: number }> = [];
  for (let i = 1; i < samples.length; i++) {
    if (samples[i]!.monotonicS < samples[i - 1]!.monotonicS) backwards.push({ from: samples[i - 1]!.monotonicS, to: samples[i]!.monotonicS });
  }
  return backwards;
}
