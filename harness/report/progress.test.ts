import { describe, expect, it } from 'vitest';
import { createProgress } from './progress.js';
import { captureStream, fixtureRecord } from './fixture.test-helper.js';

const [passed, failed] = fixtureRecord().cells;

describe('progress', () => {
  it('prints one plain line per event in CI, even on a terminal, without colour', () => {
    const out = captureStream(true);
    const progress = createProgress({ total: 2, mode: 'auto', stream: out.stream, env: { CI: 'true' } });
    progress.cellStarted(passed!.id);
    progress.cellFinished(passed!);
    progress.cellFinished(failed!);
    progress.message('SIGINT: stopping');
    progress.close();
    expect(out.text().split('\n')).toEqual([
      'cell qemu-nehalem-vcpus1-aaaaaa started',
      'cell qemu-nehalem-vcpus1-aaaaaa passed in 4.0 s',
      'cell qemu-sandybridge-vcpus1-bbbbbb failed in 4.0 s — hotplug-awareness: app kept 1 worker threads after vCPUs went 1→2',
      'SIGINT: stopping',
      expect.stringMatching(/^2\/2 cells in \d+s: 1 passed, 1 failed$/),
      '',
    ]);
  });

  it('draws a single updating bar on a terminal, in colour unless NO_COLOR', () => {
    const out = captureStream(true);
    const progress = createProgress({ total: 4, mode: 'auto', stream: out.stream, env: {} });
    progress.cellStarted('a');
    progress.cellStarted('b');
    progress.cellFinished(failed!);
    const text = out.text();
    expect(text).toContain('\r\x1b[2K[....................] 0/4');
    expect(text).toContain('[#####...............] 1/4 | \x1b[31m1 failed\x1b[0m | running 2: a, b | 0s | ETA 0s');
    // Lines for finished cells are printed above the bar, never interleaved with it.
    expect(text).toContain('\r\x1b[2Kcell qemu-sandybridge-vcpus1-bbbbbb \x1b[31mfailed\x1b[0m in 4.0 s');
    progress.close();

    const plain = captureStream(true);
    const noColour = createProgress({ total: 4, mode: 'auto', stream: plain.stream, env: { NO_COLOR: '1' } });
    noColour.cellFinished(failed!);
    noColour.close();
    expect(plain.text()).not.toContain('\x1b[3');
    expect(plain.text()).toContain('\r\x1b[2K');
  });

  it('keeps the bar inside a narrow terminal so the carriage return still works', () => {
    const out = captureStream(true, 40);
    const progress = createProgress({ total: 100, mode: 'auto', stream: out.stream, env: { NO_COLOR: '1' } });
    for (let i = 0; i < 10; i++) progress.cellStarted(`a-long-cell-id-number-${i}`);
    const frames = out.text().split('\r\x1b[2K').filter(Boolean);
    for (const frame of frames) expect(frame.length).toBeLessThanOrEqual(39);
    progress.close();
  });

  it('uses plain lines when piped, and emits one JSON object per event with --json', () => {
    const piped = captureStream(false);
    const auto = createProgress({ total: 1, mode: 'auto', stream: piped.stream, env: {} });
    auto.cellStarted('x');
    auto.close();
    expect(piped.text()).toMatch(/^cell x started\n/);

    const out = captureStream(true);
    const progress = createProgress({ total: 2, mode: 'json', stream: out.stream, env: {} });
    progress.cellStarted(failed!.id);
    progress.cellFinished(failed!);
    progress.message('hello');
    progress.close();
    const events = out.text().trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.map((e) => e.event)).toEqual(['cell-started', 'cell-finished', 'message', 'finished']);
    expect(events[1]).toMatchObject({ id: failed!.id, outcome: 'failed', reason: failed!.reason, durationMs: 4000, done: 1, total: 2 });
    expect(events[3]).toMatchObject({ done: 1, total: 2, counts: { failed: 1, passed: 0 } });
    expect(typeof events[0]!.at).toBe('string');
    expect(out.text()).not.toContain('\x1b');
  });
});
