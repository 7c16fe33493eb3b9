import { describe, expect, it } from 'vitest';
import { parseProbeOutput, probeFromFacts } from './pmu-probe.js';

describe('PMU probe results', () => {
  it("reads bw-perf-probe's JSON line", () => {
    expect(parseProbeOutput('{"cycles":{"ok":true,"count":51234},"instructions":{"ok":false,"errno":"ENOENT"}}\n')).toEqual({
      cycles: { ok: true, count: 51234 },
      instructions: { ok: false, errno: 'ENOENT' },
      source: 'probe',
    });
    expect(parseProbeOutput('sh: bw-perf-probe: not found')).toBeUndefined();
    expect(parseProbeOutput('{"cycles":')).toBeUndefined();
  });

  it("turns a physical machine's facts back into counter states", () => {
    expect(probeFromFacts({ cycles: true, instructions: false, detail: 'cycles 1200, instructions EACCES' })).toEqual({
      cycles: { ok: true, count: 1200 },
      instructions: { ok: false, errno: 'EACCES' },
      source: 'facts',
    });
    expect(probeFromFacts({ cycles: false, instructions: false, detail: 'perf probe unavailable: no tool' }).cycles).toEqual({ ok: false, errno: 'perf probe unavailable: no tool' });
  });
});
