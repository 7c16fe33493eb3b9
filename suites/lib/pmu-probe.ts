import type { MachineFacts } from '../../harness/model/facts.js';

export interface CounterState {
  ok: boolean;
  count?: number;
  errno?: string;
}
export interface PmuProbe {
  cycles: CounterState;
  instructions: CounterState;
  /** Where the answer came from: the probe run now, or the facts collected at start. */
  source: 'probe' | 'facts';
}

/** bw-perf-probe's JSON line ({"cycles":{"ok":true,"count":N},"instructions":{"ok":false,"errno":"ENOENT"}}), if it printed one. */
export function parseProbeOutput(stdout: string): PmuProbe | undefined {
  const line = stdout.trim().split('\n').find((l) => l.trim().startsWith('{'));
  if (!line) return undefined;
  try {
    const parsed = JSON.parse(line) as Partial<Record<'cycles' | 'instructions', CounterState>>;
    if (!parsed.cycles || !parsed.instructions) return undefined;
    return { cycles: parsed.cycles, instructions: parsed.instructions, source: 'probe' };
  } catch {
    return undefined;
  }
}

/** The PMU facts a physical machine collected at start (detail "cycles 123, instructions ENOENT"). */
export function probeFromFacts(pmu: NonNullable<MachineFacts['pmu']>): PmuProbe {
  const state = (name: string, ok: boolean): CounterState => {
    const word = new RegExp(`\\b${name} (\\S+?)(,|$)`).exec(pmu.detail ?? '')?.[1];
    if (ok) return { ok, ...(word && /^\d+$/.test(word) ? { count: Number(word) } : {}) };
    return { ok, errno: word && /^E[A-Z]+$/.test(word) ? word : (pmu.detail ?? 'unknown') };
  };
  return { cycles: state('cycles', pmu.cycles), instructions: state('instructions', pmu.instructions), source: 'facts' };
}
