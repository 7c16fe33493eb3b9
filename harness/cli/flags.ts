import { existsSync, statSync } from 'node:fs';
import { ConfigError } from '../core/errors.js';
import { didYouMean } from '../matrix/did-you-mean.js';
import { parseSizeMiB } from '../matrix/units.js';

/** Flag values are checked here before anything starts; an error names the flag, the value and what it takes (exit 2). */
function bad(flag: string, value: string, expected: string): never {
  throw new ConfigError('CLI_OPTION', `--${flag} must be ${expected}, not "${value}"`, { details: { flag, value } });
}

/** A whole number within [min, max]: "abc", "2.5", "0" and "" are refused instead of becoming NaN. */
export function intFlag(flag: string, value: string, range: { min?: number; max?: number } = {}): number {
  const min = range.min ?? 1;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  const number = /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!(Number.isInteger(number) && number >= min && number <= max)) {
    bad(flag, value, max === Number.MAX_SAFE_INTEGER ? `a whole number of at least ${min}` : `a whole number from ${min} to ${max}`);
  }
  return number;
}

/** A size in MiB, as the matrix writes it (384M, 1G) or a bare number of MiB (384), within [min, max] MiB. */
export function sizeFlag(flag: string, value: string, range: { min: number; max: number }): number {
  let mib = Number.NaN;
  try {
    mib = parseSizeMiB(value);
  } catch {
    // Reported below with the flag's name.
  }
  if (!(Number.isInteger(mib) && mib >= range.min && mib <= range.max)) bad(flag, value, `a size from ${range.min}M to ${range.max}M (384, 384M or 1G)`);
  return mib;
}

/** A number strictly between `above` and `below`. */
export function numberFlag(flag: string, value: string, range: { above: number; below: number }): number {
  const number = value.trim() === '' ? Number.NaN : Number(value);
  if (!(number > range.above && number < range.below)) bad(flag, value, `a number above ${range.above} and below ${range.below}`);
  return number;
}

export function choiceFlag<T extends string>(flag: string, value: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value)) bad(flag, value, `one of ${choices.join(', ')}${didYouMean(value, choices)}`);
  return value as T;
}

/** A folder that exists and holds `file` (e.g. --resume DIR needs its results.jsonl). */
export function folderFlag(flag: string, value: string, file?: string): string {
  if (!existsSync(value) || !statSync(value).isDirectory()) bad(flag, value, 'an existing folder');
  if (file && !existsSync(`${value}/${file}`)) bad(flag, value, `a run folder with a ${file}`);
  return value;
}

/** Flags that cannot go together. */
export function exclusiveFlags(values: Record<string, unknown>, names: string[]): void {
  const given = names.filter((name) => values[name] === true || (typeof values[name] === 'string' && values[name] !== ''));
  if (given.length > 1) throw new ConfigError('CLI_OPTION', `--${given.join(' and --')} cannot be used together`);
}
