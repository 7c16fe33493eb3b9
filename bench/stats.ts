import { median, quantile } from 'simple-statistics';

/** Median and spread of a sample, for benchmark lines a person can compare. */
export function summarise(samples: number[]): { median: number; p10: number; p90: number; n: number } {
  return { median: median(samples), p10: quantile(samples, 0.1), p90: quantile(samples, 0.9), n: samples.length };
}

export function formatMs(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(0)} ms`;
}

export interface BenchLine {
  name: string;
  value: number;
  unit: string;
  detail?: string;
}

export function printLines(title: string, lines: BenchLine[]): void {
  process.stdout.write(`\n## ${title}\n`);
  for (const line of lines) {
    const shown = line.unit === 'ms' ? formatMs(line.value) : `${Number.isInteger(line.value) ? line.value : line.value.toFixed(3)} ${line.unit}`;
    process.stdout.write(`  ${line.name.padEnd(46)} ${shown.padStart(12)}${line.detail ? `   ${line.detail}` : ''}\n`);
  }
}
