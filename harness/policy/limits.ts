import type { Metric } from '../model/metrics.js';
import type { CellResult } from '../model/result.js';
import { didYouMean } from '../matrix/did-you-mean.js';
import type { Limit, LimitStat } from './policy.js';

const STAT = /^(max|min|mean|median|p(?:[1-9]\d?(?:\.\d+)?))$/;
const VALUE = /^(\d+(?:\.\d+)?)(us|ms|s|m|h|%|B|[KMGT]i?B?)?$/;
const TIME_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const SIZE_BYTES: Record<string, number> = { B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };
/** The issue's and docs' word for the event kind `migrate`. */
const SOURCE_ALIASES: Record<string, string> = { migration: 'migrate' };

export type ParsedLimit = Omit<Limit, 'cells'>;

/**
 * `METRIC [STAT] OP VALUE`: `migrate.downtime_heartbeat_ms p95 <= 300`, `cpu-plug latency <= 1s`,
 * `cell.boot_ms <= 10s`. METRIC is SOURCE.NAME or SOURCE NAME; SOURCE is `cell`, a suite or an
 * event kind; STAT is max (the default: every sample), min, mean, median or pNN (nearest rank).
 * Returns the limit or what is wrong with it.
 */
export function parseLimit(text: string, sources: readonly string[]): ParsedLimit | string {
  const match = /^(.*?)\s*(<=|<|>=|>)\s*(\S+)\s*$/.exec(text.trim());
  if (!match) return `"${text}" is not a limit: write METRIC [STAT] OP VALUE, e.g. "migrate.downtime_heartbeat_ms p95 <= 300ms" or "cpu-plug latency <= 1s"`;
  const words = match[1]!.split(/\s+/).filter(Boolean);
  let stat: LimitStat = 'max';
  if (words.length > 1 && STAT.test(words.at(-1)!)) stat = words.pop() as LimitStat;
  let source: string;
  let name: string;
  if (words.length === 1 && words[0]!.includes('.')) [source, name] = [words[0]!.slice(0, words[0]!.indexOf('.')), words[0]!.slice(words[0]!.indexOf('.') + 1)];
  else if (words.length === 2) [source, name] = [words[0]!, words[1]!];
  else return `"${text}": the metric must be SOURCE.NAME or SOURCE NAME (e.g. migrate.downtime_heartbeat_ms, cpu-plug latency), optionally followed by a statistic (max, min, mean, median, p95)`;
  source = SOURCE_ALIASES[source] ?? source;
  if (!sources.includes(source)) return `"${text}": "${source}" is not \`cell\`, a suite of the matrix or an event kind${didYouMean(source, sources)}; known: ${sources.join(', ')}`;
  const value = VALUE.exec(match[3]!);
  if (!value) return `"${text}": "${match[3]}" is not a number with an optional unit (300, 300ms, 1s, 50%, 512MiB)`;
  const unit = value[2];
  const number = Number(value[1]);
  const parsed = { text, source, name, stat, op: match[2] as Limit['op'] };
  if (unit === undefined) return { ...parsed, value: number, dimension: 'plain' };
  if (unit === '%') return { ...parsed, value: number, dimension: 'percent' };
  if (unit in TIME_MS) return { ...parsed, value: number * TIME_MS[unit]!, dimension: 'time' };
  return { ...parsed, value: number * SIZE_BYTES[unit[0]!]!, dimension: 'size' };
}

/** Every sample of a limit's metric in these cells: per event of the kind, per suite result, or per cell. */
export function samplesOf(limit: Pick<Limit, 'source' | 'name'>, cells: readonly CellResult[]): Metric[] {
  const samples: Metric[] = [];
  for (const cell of cells) {
    if (limit.source === 'cell') push(samples, cell.metrics[limit.name]);
    for (const suite of cell.suites) if (suite.suite === limit.source || suite.suite.endsWith(`/${limit.source}`)) push(samples, suite.metrics[limit.name]);
    for (const event of cell.events) {
      if (event.kind !== limit.source || event.outcome !== 'ok') continue;
      if ((limit.name === 'latency' || limit.name === 'latency_ms') && event.observedAtMs !== undefined) samples.push({ value: event.observedAtMs - event.requestedAtMs, unit: 'ms' });
      else push(samples, event.metrics[limit.name]);
    }
  }
  return samples;
}

function push(samples: Metric[], metric: Metric | undefined): void {
  if (metric && Number.isFinite(metric.value)) samples.push(metric);
}

/** A sample in the limit's unit, or why it cannot be compared (a duration limit on a byte count). */
export function inLimitUnit(limit: Pick<Limit, 'dimension'>, sample: Metric): number | string {
  const time: Partial<Record<Metric['unit'], number>> = { ns: 1e-6, ms: 1, s: 1_000 };
  const size: Partial<Record<Metric['unit'], number>> = { bytes: 1, KiB: 1024, MiB: 1024 ** 2 };
  switch (limit.dimension) {
    case 'plain':
      return sample.value;
    case 'percent':
      return sample.unit === 'percent' ? sample.value : `the limit is in % but the metric is in ${sample.unit}`;
    case 'time':
      return time[sample.unit] !== undefined ? sample.value * time[sample.unit]! : `the limit is a duration but the metric is in ${sample.unit}`;
    case 'size':
      return size[sample.unit] !== undefined ? sample.value * size[sample.unit]! : `the limit is a size but the metric is in ${sample.unit}`;
  }
}

/** max, min, mean, median or a nearest-rank percentile (p95 of 20 samples is the 19th smallest). */
export function statistic(stat: LimitStat, values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (stat === 'max') return sorted.at(-1)!;
  if (stat === 'min') return sorted[0]!;
  if (stat === 'mean') return sorted.reduce((s, v) => s + v, 0) / sorted.length;
  const p = stat === 'median' ? 50 : Number(stat.slice(1));
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export function holds(limit: Pick<Limit, 'op' | 'value'>, value: number): boolean {
  return limit.op === '<=' ? value <= limit.value : limit.op === '<' ? value < limit.value : limit.op === '>=' ? value >= limit.value : value > limit.value;
}

/** A value in the limit's unit, for a person. */
export function showValue(limit: Pick<Limit, 'dimension'>, value: number): string {
  const round = (v: number) => String(Math.round(v * 100) / 100);
  if (limit.dimension === 'time') return value >= 1000 ? `${round(value / 1000)} s` : `${round(value)} ms`;
  if (limit.dimension === 'size') return `${round(value / 1024 ** 2)} MiB`;
  if (limit.dimension === 'percent') return `${round(value)}%`;
  return round(value);
}
