import type { ConsoleLine, EventRecord } from '../../model/result.js';

export interface Gap {
  fromMs: number;
  toMs: number;
  /** Measured from heartbeat lines, or placed from an event's heartbeat downtime metric. */
  source: 'heartbeats' | 'event';
}

/**
 * The heartbeat gaps of a cell. The machine's line buffer does not keep heartbeat lines (one every
 * few ms), so a real cell's log usually has none: then each event that measured a heartbeat
 * downtime (`downtime_heartbeat_ms`, live migration) gets a band of that width ending where the
 * event was acknowledged — for a migration, the switch-over, which is where the stop-and-copy gap is.
 */
export function cellHeartbeatGaps(log: ConsoleLine[], events: EventRecord[]): Gap[] {
  const measured = heartbeatGaps(log);
  if (measured.length > 0) return measured;
  return events.flatMap((event) => {
    const downtime = event.metrics.downtime_heartbeat_ms?.value;
    const end = event.acknowledgedAtMs ?? event.observedAtMs;
    return downtime && downtime > 0 && end !== undefined ? [{ fromMs: Math.max(0, end - downtime), toMs: end, source: 'event' as const }] : [];
  });
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
    if (interval > threshold) gaps.push({ fromMs: times[i]!, toMs: times[i + 1]!, source: 'heartbeats' });
  });
  return gaps;
}
