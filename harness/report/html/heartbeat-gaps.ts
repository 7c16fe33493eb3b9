import type { ConsoleLine } from '../../model/result.js';

export interface Gap {
  fromMs: number;
  toMs: number;
}

/**
 * Gaps in the guest's heartbeat as the host received it: intervals far beyond the usual one
 * (4× the median, and at least 100 ms more), i.e. the guest was paused, migrating or starved.
 */
export function heartbeatGaps(log: ConsoleLine[]): Gap[] {
  const times = log.filter((l) => l.source === 'heartbeat').map((l) => l.t).sort((a, b) => a - b);
  if (times.length < 3) return [];
  const intervals = times.slice(1).map((t, i) => t - times[i]!);
  const median = [...intervals].sort((a, b) => a - b)[Math.floor(intervals.length / 2)]!;
  const threshold = Math.max(median * 4, median + 100);
  const gaps: Gap[] = [];
  intervals.forEach((interval, i) => {
    if (interval > threshold) gaps.push({ fromMs: times[i]!, toMs: times[i + 1]! });
  });
  return gaps;
}
