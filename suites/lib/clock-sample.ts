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

/** One reading of the guest's clocks against the host's, through the same exec on every backend. */
export async function sampleClocks(machine: StartedMachine): Promise<ClockSample> {
  const sent = Date.now();
  const t0 = performance.now();
  // GNU date has %N; busybox (the default guest) does not, but its adjtimex prints tv_sec/tv_usec.
  const script = 'cat /proc/uptime; t=$(date +%s%N); case "$t" in *N) adjtimex | sed -n "s/.*tv_sec: *//p; s/.*tv_usec: *//p" | tr "\\n" " ";; *) echo "$t";; esac';
  const result = await machine.exec(['sh', '-c', script], { timeoutMs: 15_000 });
  const roundTripMs = performance.now() - t0;
  const [uptime, wall] = result.stdout.trim().split('\n');
  const monotonicS = Number(uptime?.split(/\s+/)[0]);
  const parts = (wall ?? '').trim().split(/\s+/).map(Number);
  const guestMs = parts.length === 2 ? parts[0]! * 1000 + parts[1]! / 1000 : parts[0]! / 1e6;
  const hostMid = sent + roundTripMs / 2;
  return { at: t0 + roundTripMs / 2 - machine.origin, monotonicS, driftMs: guestMs - hostMid, roundTripMs };
}

/** Where monotonic time went backwards between consecutive samples (it never may). */
export function monotonicRegressions(samples: ClockSample[]): Array<{ from: number; to: number }> {
  const backwards: Array<{ from: number; to: number }> = [];
  for (let i = 1; i < samples.length; i++) {
    if (samples[i]!.monotonicS < samples[i - 1]!.monotonicS) backwards.push({ from: samples[i - 1]!.monotonicS, to: samples[i]!.monotonicS });
  }
  return backwards;
}
