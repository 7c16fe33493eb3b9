/** Optimal string alignment distance (Levenshtein plus adjacent transpositions: "targte" → "target" is 1). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The known name closest to `name`, when it is close enough to be a typo: at most 1 edit for
 * names up to 4 characters, 2 up to 8, 3 beyond (case-insensitive). "vcpu" → "vcpus",
 * "memroy" → "memory", "cpu-modle" → "cpu-model"; "tier" → nothing.
 */
export function closestName(name: string, known: Iterable<string>): string | undefined {
  const lower = name.toLowerCase();
  const limit = lower.length <= 4 ? 1 : lower.length <= 8 ? 2 : 3;
  let best: { name: string; distance: number; prefix: number } | undefined;
  for (const candidate of known) {
    if (candidate === name) return undefined;
    const other = candidate.toLowerCase();
    const distance = editDistance(lower, other);
    // Ties go to the longer shared start: "vcpu" is "vcpus" missing its s, not "cpu" with a v.
    let prefix = 0;
    while (prefix < lower.length && lower[prefix] === other[prefix]) prefix++;
    if (distance <= limit && (!best || distance < best.distance || (distance === best.distance && prefix > best.prefix))) best = { name: candidate, distance, prefix };
  }
  return best?.name;
}

/** ` (did you mean "x"?)` or nothing. */
export function didYouMean(name: string, known: Iterable<string>): string {
  const close = closestName(name, known);
  return close === undefined ? '' : ` (did you mean "${close}"?)`;
}
