import { median, permutationTest } from 'simple-statistics';
import type { Outcome } from '../model/outcome.js';
import type { CellResult } from '../model/result.js';
import type { RunRecord } from './run-record.js';

export interface MetricChange {
  id: string;
  metric: string;
  unit: string;
  before: number[];
  after: number[];
  /** Two-sided permutation test over the repeats; NaN with a single sample per side. */
  pValue: number;
  /** median(after) / median(before) */
  ratio: number;
}

export interface Comparison {
  changed: Array<{ id: string; before: Outcome; after: Outcome }>;
  added: string[];
  removed: string[];
  regressions: MetricChange[];
  improvements: MetricChange[];
  /** Why some timings could not be judged statistically. */
  notes: string[];
}

export interface CompareOptions {
  /** Significance level of the permutation test (default 0.05). */
  alpha?: number;
  /** Ignore changes smaller than this ratio even when significant (default 1.10). */
  minRatio?: number;
  /** With one run per side there is no spread to test: only ratios beyond this count (default 1.5). */
  singleSampleRatio?: number;
}

/** Timings (ms) of a cell, including its events' and suites' own, under stable names. */
function timings(cell: CellResult): Map<string, { value: number; unit: string }> {
  const out = new Map<string, { value: number; unit: string }>();
  const add = (name: string, m: { value: number; unit: string }) => {
    if (m.unit === 'ms' || m.unit === 's') out.set(name, m);
  };
  for (const [name, m] of Object.entries(cell.metrics)) add(name, m);
  for (const event of cell.events) for (const [name, m] of Object.entries(event.metrics)) add(`${event.label}.${name}`, m);
  for (const suite of cell.suites) for (const [name, m] of Object.entries(suite.metrics)) add(`${suite.suite}.${name}`, m);
  return out;
}

/** A deterministic source for the permutation test, so the same inputs give the same answer. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Outcome changes, and timing changes judged over repeats (several runs per side) with a
 * permutation test — not a single threshold — so noise is not reported as a regression.
 */
export function compareRuns(before: RunRecord[], after: RunRecord[], options: CompareOptions = {}): Comparison {
  const alpha = options.alpha ?? 0.05;
  const minRatio = options.minRatio ?? 1.1;
  const singleRatio = options.singleSampleRatio ?? 1.5;
  const last = (records: RunRecord[]) => new Map(records.flatMap((r) => r.cells).map((c) => [c.id, c]));
  const beforeCells = last(before);
  const afterCells = last(after);
  const comparison: Comparison = { changed: [], added: [], removed: [], regressions: [], improvements: [], notes: [] };
  for (const id of afterCells.keys()) if (!beforeCells.has(id)) comparison.added.push(id);
  for (const id of beforeCells.keys()) if (!afterCells.has(id)) comparison.removed.push(id);
  for (const [id, cell] of afterCells) {
    const old = beforeCells.get(id);
    if (old && old.outcome !== cell.outcome) comparison.changed.push({ id, before: old.outcome, after: cell.outcome });
  }
  const samples = (records: RunRecord[], id: string, metric: string): number[] =>
    records.flatMap((r) => r.cells.filter((c) => c.id === id && c.outcome === 'passed')).map((c) => timings(c).get(metric)?.value).filter((v): v is number => v !== undefined);
  const single = before.length < 2 || after.length < 2;
  if (single) comparison.notes.push(`one run per side: timings are compared by ratio only (> ${singleRatio}x); give several runs per side (OLD1,OLD2,... NEW1,NEW2,...) for a statistical test`);
  for (const id of afterCells.keys()) {
    if (!beforeCells.has(id)) continue;
    const names = new Set([...timings(beforeCells.get(id)!).keys()].filter((n) => timings(afterCells.get(id)!).has(n)));
    for (const metric of names) {
      const b = samples(before, id, metric);
      const a = samples(after, id, metric);
      if (b.length === 0 || a.length === 0) continue;
      const ratio = median(a) / Math.max(median(b), 1e-9);
      let pValue = Number.NaN;
      let significant: boolean;
      if (b.length >= 2 && a.length >= 2) {
        pValue = permutationTest(b, a, 'two_side', 10_000, seeded(b.length * 31 + a.length));
        significant = pValue < alpha && (ratio > minRatio || ratio < 1 / minRatio);
      } else significant = ratio > singleRatio || ratio < 1 / singleRatio;
      if (!significant) continue;
      const unit = timings(afterCells.get(id)!).get(metric)!.unit;
      const change: MetricChange = { id, metric, unit, before: b, after: a, pValue, ratio };
      (ratio > 1 ? comparison.regressions : comparison.improvements).push(change);
    }
  }
  return comparison;
}

export function formatComparison(c: Comparison, format: 'text' | 'markdown' | 'json'): string {
  if (format === 'json') return JSON.stringify(c, null, 2);
  const md = format === 'markdown';
  const lines: string[] = [];
  const heading = (t: string) => lines.push(md ? `\n### ${t}` : `\n${t}`);
  const describe = (m: MetricChange) =>
    `${m.id} ${m.metric}: ${median(m.before).toFixed(1)} → ${median(m.after).toFixed(1)} ${m.unit} (x${m.ratio.toFixed(2)}${Number.isNaN(m.pValue) ? '' : `, p=${m.pValue.toFixed(3)}, n=${m.before.length}/${m.after.length}`})`;
  lines.push(`${c.changed.length} outcome change(s), ${c.regressions.length} timing regression(s), ${c.improvements.length} improvement(s)`);
  if (c.changed.length) {
    heading('Outcome changes');
    for (const x of c.changed) lines.push(`${md ? '- ' : '  '}${x.id}: ${x.before} → ${x.after}`);
  }
  if (c.regressions.length) {
    heading('Timing regressions');
    for (const m of c.regressions) lines.push(`${md ? '- ' : '  '}${describe(m)}`);
  }
  if (c.improvements.length) {
    heading('Timing improvements');
    for (const m of c.improvements) lines.push(`${md ? '- ' : '  '}${describe(m)}`);
  }
  if (c.added.length) lines.push(`${md ? '\n' : ''}added: ${c.added.join(', ')}`);
  if (c.removed.length) lines.push(`removed: ${c.removed.join(', ')}`);
  for (const note of c.notes) lines.push(`note: ${note}`);
  return lines.join('\n');
}
