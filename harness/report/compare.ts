import { median } from 'simple-statistics';
import type { Outcome } from '../model/outcome.js';
import type { CellResult } from '../model/result.js';
import type { RunRecord } from './run-record.js';
import { permutationPValue } from './statistics.js';
import { ConfigError } from '../core/errors.js';
import { missingParts } from './merge.js';

export interface MetricChange {
  id: string;
  metric: string;
  unit: string;
  before: number[];
  after: number[];
  /** Two-sided permutation test over the repeats; NaN with a single sample on a side. */
  pValue: number;
  /** median(after) / median(before) */
  ratio: number;
}

export interface Comparison {
  /** Cells whose usual outcome (the most frequent over the repeats of a side) changed. */
  changed: Array<{ id: string; before: Outcome; after: Outcome }>;
  added: string[];
  removed: string[];
  regressions: MetricChange[];
  improvements: MetricChange[];
  /** Cells whose outcome varied between repeats of one side: a changed outcome there may be luck. */
  flaky: Array<{ id: string; side: 'before' | 'after'; outcomes: Outcome[] }>;
  /** Why some timings could not be judged statistically. */
  notes: string[];
  /** Timing changes smaller than this (absolute) are never counted. */
  floorMs: number;
}

export interface CompareOptions {
  /** Significance level of the permutation test (default 0.05). */
  alpha?: number;
  /** Ignore changes smaller than this ratio even when significant (default 1.10). */
  minRatio?: number;
  /** With one run on a side there is no spread to test: only ratios beyond this count (default 1.5). */
  singleSampleRatio?: number;
  /** Ignore changes smaller than this many milliseconds, whatever the ratio (default 5): 0.2 → 2.0 ms is x10 and noise. */
  floorMs?: number;
}

/** Milliseconds per unit of the time units timingsOf keeps. */
const MS_PER_UNIT: Record<string, number> = { ms: 1, s: 1000, ns: 1e-6 };

type Timing = { value: number; unit: string };

/**
 * Runs worth comparing: of one matrix (same name and content; an edited matrix can mean other cells
 * under the same ids) and complete (a crashed or interrupted run lacks cells, and "removed" or an
 * outcome change would be the crash's doing). Refused with exit 2 unless the caller says otherwise.
 */
export function assertComparable(before: RunRecord[], after: RunRecord[], options: { allowIncomplete?: boolean; allowDifferentMatrix?: boolean } = {}): void {
  const all = [...before, ...after];
  const matrices = [...new Set(all.map((r) => `${r.matrix.name} (sha256 ${r.matrix.hash.slice(0, 12)}…)`))];
  if (matrices.length > 1 && !options.allowDifferentMatrix) {
    throw new ConfigError('COMPARE_MISMATCH', `these runs come from different matrices: ${matrices.join(', ')}; pass --allow-different-matrix to compare them anyway`, { details: { matrices } });
  }
  if (options.allowIncomplete) return;
  const gaps = all.flatMap((r) => missingParts([r]).filter((g) => !g.startsWith('shard')).map((g) => `${r.runId}: ${g}`));
  if (gaps.length > 0) throw new ConfigError('COMPARE_INCOMPLETE', `a run is incomplete: ${gaps.join('; ')}; pass --allow-incomplete to compare it anyway`, { details: { gaps } });
}

/**
 * Timings of a cell under stable names: the cell's own, each event's (repeated events numbered
 * `cpu-plug#2`…) and each suite's. Only time units: for those, lower is better.
 */
export function timingsOf(cell: CellResult): Map<string, Timing> {
  const out = new Map<string, Timing>();
  const add = (name: string, m: Timing) => {
    if (m.unit === 'ms' || m.unit === 's' || m.unit === 'ns') out.set(name, m);
  };
  for (const [name, m] of Object.entries(cell.metrics)) add(name, m);
  const seen = new Map<string, number>();
  for (const event of cell.events) {
    const n = (seen.get(event.label) ?? 0) + 1;
    seen.set(event.label, n);
    const label = n === 1 ? event.label : `${event.label}#${n}`;
    for (const [name, m] of Object.entries(event.metrics)) add(`${label}.${name}`, m);
  }
  for (const suite of cell.suites) for (const [name, m] of Object.entries(suite.metrics)) add(`${suite.suite}.${name}`, m);
  return out;
}

/** Each cell id → its results over the repeats of one side (one per run that has it). */
function byCell(records: RunRecord[]): Map<string, CellResult[]> {
  const cells = new Map<string, CellResult[]>();
  for (const record of records) for (const cell of record.cells) (cells.get(cell.id) ?? cells.set(cell.id, []).get(cell.id)!).push(cell);
  return cells;
}

function usualOutcome(results: CellResult[]): Outcome {
  const counts = new Map<Outcome, number>();
  for (const r of results) counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
  // Ties go to the later run: it is what the person saw last.
  let best = results.at(-1)!.outcome;
  for (const [outcome, n] of counts) if (n > counts.get(best)!) best = outcome;
  return best;
}

/**
 * Outcome changes, and timing changes judged over repeats (several runs per side) with a
 * permutation test plus a minimum effect size — not a single threshold — so noise is not reported
 * as a regression. No multiple-comparison correction: with 5 repeats the smallest possible p is
 * 0.008, which no correction over hundreds of metrics would let through; the effect-size floor
 * (minRatio) is what keeps false alarms rare.
 */
export function compareRuns(before: RunRecord[], after: RunRecord[], options: CompareOptions = {}): Comparison {
  const alpha = options.alpha ?? 0.05;
  const minRatio = options.minRatio ?? 1.1;
  const singleRatio = options.singleSampleRatio ?? 1.5;
  const floorMs = options.floorMs ?? 5;
  let belowFloor = 0;
  const beforeCells = byCell(before);
  const afterCells = byCell(after);
  const comparison: Comparison = { changed: [], added: [], removed: [], regressions: [], improvements: [], flaky: [], notes: [], floorMs };
  for (const id of afterCells.keys()) if (!beforeCells.has(id)) comparison.added.push(id);
  for (const id of beforeCells.keys()) if (!afterCells.has(id)) comparison.removed.push(id);
  for (const [side, cells] of [['before', beforeCells], ['after', afterCells]] as const) {
    for (const [id, results] of cells) {
      const outcomes = results.map((r) => r.outcome);
      if (new Set(outcomes).size > 1) comparison.flaky.push({ id, side, outcomes });
    }
  }
  let singles = 0;
  for (const [id, afterResults] of afterCells) {
    const beforeResults = beforeCells.get(id);
    if (!beforeResults) continue;
    const was = usualOutcome(beforeResults);
    const is = usualOutcome(afterResults);
    if (was !== is) comparison.changed.push({ id, before: was, after: is });

    // Timings only mean something for runs that passed.
    const samples = (results: CellResult[]) => results.filter((r) => r.outcome === 'passed').map(timingsOf);
    const b = samples(beforeResults);
    const a = samples(afterResults);
    const names = new Set(b.flatMap((t) => [...t.keys()]).filter((name) => a.some((t) => t.has(name))));
    for (const metric of names) {
      const bv = b.map((t) => t.get(metric)?.value).filter((v): v is number => v !== undefined);
      const av = a.map((t) => t.get(metric)?.value).filter((v): v is number => v !== undefined);
      if (bv.length === 0 || av.length === 0) continue;
      const ratio = median(av) / Math.max(median(bv), 1e-9);
      // An absolute floor first: a ratio of two tiny numbers says nothing.
      const unitOf = a.find((t) => t.has(metric))!.get(metric)!.unit;
      if (Math.abs(median(av) - median(bv)) * (MS_PER_UNIT[unitOf] ?? 1) < floorMs) {
        if (ratio > minRatio || ratio < 1 / minRatio) belowFloor++;
        continue;
      }
      const large = (limit: number) => ratio > limit || ratio < 1 / limit;
      let pValue = Number.NaN;
      let significant: boolean;
      if (bv.length >= 2 && av.length >= 2) {
        pValue = permutationPValue(bv, av);
        significant = pValue < alpha && large(minRatio);
      } else {
        singles++;
        significant = large(singleRatio);
      }
      if (!significant) continue;
      const unit = a.find((t) => t.has(metric))!.get(metric)!.unit;
      (ratio > 1 ? comparison.regressions : comparison.improvements).push({ id, metric, unit, before: bv, after: av, pValue, ratio });
    }
  }
  if (singles > 0) comparison.notes.push(`${singles} timing(s) had a single passed run on a side: compared by ratio only (beyond ${singleRatio}x); give several runs per side (OLD1,OLD2,… NEW1,NEW2,…) for a statistical test`);
  if (belowFloor > 0) comparison.notes.push(`${belowFloor} timing change(s) smaller than ${floorMs} ms not counted, whatever their ratio`);
  const byRatio = (x: MetricChange, y: MetricChange) => Math.abs(Math.log(y.ratio)) - Math.abs(Math.log(x.ratio));
  comparison.regressions.sort(byRatio);
  comparison.improvements.sort(byRatio);
  return comparison;
}

export function formatComparison(c: Comparison, format: 'text' | 'markdown' | 'json'): string {
  if (format === 'json') return JSON.stringify(c, (_, v: unknown) => (typeof v === 'number' && Number.isNaN(v) ? null : v), 2);
  return format === 'markdown' ? formatMarkdown(c) : formatText(c);
}

function headline(c: Comparison): string {
  return `${c.changed.length} outcome change(s), ${c.regressions.length} timing regression(s), ${c.improvements.length} improvement(s)${c.added.length || c.removed.length ? `, ${c.added.length} cell(s) added, ${c.removed.length} removed` : ''} (timing changes under ${c.floorMs} ms are not counted)`;
}

function fmt(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(1);
}

function evidence(m: MetricChange): string {
  return Number.isNaN(m.pValue) ? 'single run' : `p=${m.pValue.toFixed(3)}, n=${m.before.length}/${m.after.length}`;
}

function formatText(c: Comparison): string {
  const lines = [headline(c)];
  const section = (title: string, items: string[]) => {
    if (items.length) lines.push('', `${title}:`, ...items.map((i) => `  ${i}`));
  };
  section('Outcome changes', c.changed.map((x) => `${x.id}: ${x.before} → ${x.after}`));
  const metric = (m: MetricChange) => `${m.id} ${m.metric}: ${fmt(median(m.before))} → ${fmt(median(m.after))} ${m.unit} (x${m.ratio.toFixed(2)}, ${evidence(m)})`;
  section('Timing regressions', c.regressions.map(metric));
  section('Timing improvements', c.improvements.map(metric));
  section('Flaky (outcome varied between repeats)', c.flaky.map((f) => `${f.id} ${f.side}: ${f.outcomes.join(', ')}`));
  section('Added', c.added);
  section('Removed', c.removed);
  for (const note of c.notes) lines.push('', `note: ${note}`);
  return lines.join('\n');
}

function formatMarkdown(c: Comparison): string {
  const lines = [`**${headline(c)}**`];
  const code = (s: string) => `\`${s.replace(/`/g, "'")}\``;
  if (c.changed.length) lines.push('', '### Outcome changes', '', '| cell | before | after |', '|---|---|---|', ...c.changed.map((x) => `| ${code(x.id)} | ${x.before} | ${x.after} |`));
  const table = (title: string, items: MetricChange[]) => {
    if (!items.length) return;
    lines.push('', `### ${title}`, '', '| cell | metric | before (median) | after (median) | ratio | evidence |', '|---|---|---|---|---|---|');
    for (const m of items) lines.push(`| ${code(m.id)} | ${code(m.metric)} | ${fmt(median(m.before))} ${m.unit} | ${fmt(median(m.after))} ${m.unit} | x${m.ratio.toFixed(2)} | ${evidence(m)} |`);
  };
  table('Timing regressions', c.regressions);
  table('Timing improvements', c.improvements);
  if (c.flaky.length) lines.push('', '### Flaky', '', ...c.flaky.map((f) => `- ${code(f.id)} ${f.side}: ${f.outcomes.join(', ')}`));
  if (c.added.length) lines.push('', `Added: ${c.added.map(code).join(', ')}`);
  if (c.removed.length) lines.push('', `Removed: ${c.removed.map(code).join(', ')}`);
  for (const note of c.notes) lines.push('', `> ${note}`);
  return lines.join('\n');
}
