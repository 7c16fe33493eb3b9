/** Durations and sizes are parsed here and nowhere else; errors name the value and the forms accepted. */
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const SIZE = /^(\d+(?:\.\d+)?)([KMGT])?(i?B)?$/i;

export function parseDuration(value: string | number): number {
  if (typeof value === 'number') return value;
  const match = DURATION.exec(value.trim());
  if (!match) throw new Error(`"${value}" is not a duration (use 500ms, 2s, 1m or 1h)`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[(match[2] ?? 'ms') as 'ms' | 's' | 'm' | 'h'];
  return Number(match[1]) * unit;
}

/** A size in MiB (512M, 1G, 262144K; a bare number is MiB). */
export function parseSizeMiB(value: string | number): number {
  if (typeof value === 'number') return value;
  const match = SIZE.exec(value.trim());
  if (!match) throw new Error(`"${value}" is not a size (use 512M, 1G or 262144K)`);
  const factor = { K: 1 / 1024, M: 1, G: 1024, T: 1024 * 1024 }[(match[2] ?? 'M').toUpperCase() as 'K' | 'M' | 'G' | 'T'];
  return Number(match[1]) * factor;
}

/** A size in bytes (for bandwidths: 10G = 10 GiB). */
export function parseSizeBytes(value: string | number): number {
  if (typeof value === 'number') return value;
  return Math.round(parseSizeMiB(value) * 1024 * 1024);
}
