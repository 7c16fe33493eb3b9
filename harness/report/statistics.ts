/**
 * Two-sided permutation test of a difference in means: how often a random relabelling of the
 * pooled samples separates the means at least as far as the real labels do. Exact (every split
 * enumerated) for small repeat counts, which is the usual case (5 runs per side = 252 splits), so
 * the same inputs always give the same p; a seeded Monte Carlo estimate beyond that.
 */
export function permutationPValue(a: number[], b: number[], options: { maxExact?: number; samples?: number } = {}): number {
  if (a.length === 0 || b.length === 0) return Number.NaN;
  const pooled = [...a, ...b];
  const total = pooled.reduce((s, v) => s + v, 0);
  const n = a.length;
  const m = b.length;
  const observed = Math.abs(mean(a) - mean(b));
  // A relabelling is fully described by the sum of the values labelled "a".
  const distance = (sumA: number) => Math.abs(sumA / n - (total - sumA) / m);
  // Float noise must not make the observed split count as less extreme than itself.
  const atLeast = (d: number) => d >= observed - 1e-9 * Math.max(1, observed);
  if (binomial(n + m, n) <= (options.maxExact ?? 50_000)) {
    let extreme = 0;
    let count = 0;
    forEachSubsetSum(pooled, n, (sum) => {
      count++;
      if (atLeast(distance(sum))) extreme++;
    });
    return extreme / count;
  }
  const random = seeded(hash(pooled));
  const samples = options.samples ?? 20_000;
  const values = [...pooled];
  let extreme = 0;
  for (let i = 0; i < samples; i++) {
    // Partial Fisher–Yates: the first n positions are a uniform random subset.
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const k = j + Math.floor(random() * (values.length - j));
      [values[j], values[k]] = [values[k]!, values[j]!];
      sum += values[j]!;
    }
    if (atLeast(distance(sum))) extreme++;
  }
  return (extreme + 1) / (samples + 1);
}

export function mean(values: number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}

function binomial(n: number, k: number): number {
  let result = 1;
  for (let i = 1; i <= k; i++) result = (result * (n - k + i)) / i;
  return Math.round(result);
}

function forEachSubsetSum(values: number[], size: number, visit: (sum: number) => void): void {
  const walk = (start: number, left: number, sum: number) => {
    if (left === 0) return visit(sum);
    for (let i = start; i <= values.length - left; i++) walk(i + 1, left - 1, sum + values[i]!);
  };
  walk(0, size, 0);
}

function hash(values: number[]): number {
  let h = 2166136261;
  for (const v of values) h = Math.imul(h ^ Math.round(v * 1000), 16777619);
  return h >>> 0;
}

/** mulberry32: a small deterministic generator, so a comparison is reproducible. */
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
