import { describe, expect, it } from 'vitest';
import type { ConsoleLine } from '../../harness/model/result.js';
import { parseLatestWorkers, parseProbeNumber, parseThreads } from './app-state.js';

const line = (t: number, text: string, source: ConsoleLine['source'] = 'app'): ConsoleLine => ({ t, source, text });

describe('worker count from the application output', () => {
  const lines = [
    line(10, 'demo-server ready workers=1 cpus=1 adaptive=1'),
    line(900, 'demo-server alive t=1000 workers=1'),
    line(1200, 'event cpu-plug requested workers=9', 'harness'),
    line(1500, 'demo-server resized workers=2 cpus=2'),
    line(1600, 'some other line'),
  ];

  it('takes the latest workers=N the application printed, ignoring other sources', () => {
    expect(parseLatestWorkers(lines)).toBe(2);
    expect(parseLatestWorkers(lines.slice(0, 3))).toBe(1);
  });

  it('only looks at lines since a time', () => {
    expect(parseLatestWorkers(lines.slice(0, 3), 1000)).toBeUndefined();
    expect(parseLatestWorkers(lines, 1000)).toBe(2);
  });

  it('does not read workers=N out of a longer word', () => {
    expect(parseLatestWorkers([line(1, 'idle_workers=4'), line(2, 'workers=12x')])).toBeUndefined();
  });
});

describe('probe output and /proc status', () => {
  it('takes the first token when it is a number', () => {
    expect(parseProbeNumber(' 4\n')).toBe(4);
    expect(parseProbeNumber('3 threads')).toBe(3);
    expect(parseProbeNumber('')).toBeUndefined();
    expect(parseProbeNumber('error: no such process')).toBeUndefined();
  });

  it('reads Threads: from /proc/<pid>/status', () => {
    expect(parseThreads('Name:\tdemo-server\nState:\tS (sleeping)\nThreads:\t4\nSigQ:\t0/1024\n')).toBe(4);
    expect(parseThreads('Name:\tdemo-server\n')).toBeUndefined();
  });
});
