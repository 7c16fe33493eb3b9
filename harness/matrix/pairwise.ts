import type { AxisValue } from '../model/cell.js';

export type Combination = Record<string, AxisValue>;

/**
 * A 2-wise covering subset: every pair of values of every two axes that occurs in at least one
 * allowed combination occurs in the result. Greedy set cover over the allowed combinations,
 * deterministic (ties keep the earlier combination), so the same matrix gives the same cells.
 */
export function pairwiseCover(combinations: Combination[], axes: string[]): Combination[] {
  const pairsOf = (c: Combination): string[] => {
    const pairs: string[] = [];
    for (let i = 0; i < axes.length; i++) {
      for (let j = i + 1; j < axes.length; j++) {
        pairs.push(`${axes[i]}=${JSON.stringify(c[axes[i]!])}|${axes[j]}=${JSON.stringify(c[axes[j]!])}`);
      }
    }
    return pairs;
  };
  const candidates = combinations.map((c) => ({ c, pairs: pairsOf(c) }));
  const uncovered = new Set(candidates.flatMap((x) => x.pairs));
  const chosen: Combination[] = [];
  const used = new Set<number>();
  while (uncovered.size > 0) {
    let best = -1;
    let bestGain = 0;
    for (let i = 0; i < candidates.length; i++) {
      if (used.has(i)) continue;
      let gain = 0;
      for (const pair of candidates[i]!.pairs) if (uncovered.has(pair)) gain++;
      if (gain > bestGain) {
        best = i;
        bestGain = gain;
      }
    }
    if (best < 0) break;
    used.add(best);
    chosen.push(candidates[best]!.c);
    for (const pair of candidates[best]!.pairs) uncovered.delete(pair);
  }
  return chosen;
}
