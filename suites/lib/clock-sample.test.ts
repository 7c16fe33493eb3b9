import { describe, expect, it } from 'vitest';
import { driftMs, monotonicRegressions, parseClockReading } from './clock-sample.js';

describe('guest clock readings', () => {
  it('reads GNU date nanoseconds', () => {
    expect(parseClockReading('123.45 200.10\n1764033000123456789\n')).toEqual({ monotonicS: 123.45, wallMs: 1764033000123.4568 });
  });

  it("reads busybox adjtimex's seconds and microseconds", () => {
    expect(parseClockReading('7.01 6.50\n1764033000 250000 \n')).toEqual({ monotonicS: 7.01, wallMs: 1764033000250 });
  });

  it('refuses output that is not a reading', () => {
    expect(parseClockReading('')).toBeUndefined();
    expect(parseClockReading('7.01 6.50\n')).toBeUndefined();
    expect(parseClockReading('7.01 6.50\n%s%N\n')).toBeUndefined();
  });
});

describe('drift arithmetic', () => {
  it('compares the guest clock with the host clock at the middle of the round trip', () => {
    // host sent at 1000, reply after 200 ms: the guest read its clock around host 1100.
    expect(driftMs(1100, 1000, 200)).toBe(0);
    expect(driftMs(1350, 1000, 200)).toBe(250);
    expect(driftMs(-900, 1000, 200)).toBe(-2000);
  });
});

describe('monotonic regressions', () => {
  it('finds each step backwards and nothing when time only moves forward or stands still', () => {
    expect(monotonicRegressions([{ monotonicS: 1 }, { monotonicS: 2 }, { monotonicS: 2 }, { monotonicS: 5 }])).toEqual([]);
    expect(monotonicRegressions([{ monotonicS: 1 }, { monotonicS: 4 }, { monotonicS: 3.5 }, { monotonicS: 6 }, { monotonicS: 0.2 }])).toEqual([
      { from: 4, to: 3.5 },
      { from: 6, to: 0.2 },
    ]);
  });
});
