import { ConfigError } from '../core/errors.js';
import { didYouMean } from '../matrix/did-you-mean.js';
import { parseDuration, parseSizeBytes, parseSizeMiB } from '../matrix/units.js';

/**
 * Typed reads of an event's `with:` parameters; a wrong value names the event, the parameter and
 * the forms accepted. Errors carry `details.param`, so the matrix loader points at that parameter.
 */
export class EventParams {
  /** `allowed` lists the parameter names the event knows: any other name is a ConfigError (a typo would otherwise be ignored silently). */
  constructor(
    private readonly kind: string,
    private readonly params: Record<string, unknown>,
    allowed: readonly string[] = [],
  ) {
    const unknown = Object.keys(params).filter((name) => !allowed.includes(name));
    if (unknown.length > 0) {
      throw new ConfigError(
        'EVENT_PARAM',
        `event ${kind}: unknown parameter ${unknown.map((name) => `"${name}"${didYouMean(name, allowed)}`).join(', ')}; ${allowed.length > 0 ? `it takes ${allowed.join(', ')}` : 'it takes no parameters'}`,
        { details: { param: unknown[0], key: true } },
      );
    }
  }

  fail(name: string, expected: string): never {
    const value = this.params[name];
    const shown = value === undefined ? `${name} is missing: it` : `parameter ${name}=${JSON.stringify(value)}`;
    throw new ConfigError('EVENT_PARAM', `event ${this.kind}: ${shown} must be ${expected}`, { details: { param: name } });
  }

  has(name: string): boolean {
    return this.params[name] !== undefined;
  }

  int(name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
    const value = this.params[name] ?? fallback;
    const range = max === Number.MAX_SAFE_INTEGER ? 'a whole number' : `a whole number from 0 to ${max}`;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) this.fail(name, range);
    return value;
  }

  positiveInt(name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
    const value = this.params[name] ?? fallback;
    const range = max === Number.MAX_SAFE_INTEGER ? 'a whole number of at least 1' : `a whole number from 1 to ${max}`;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) this.fail(name, range);
    return value;
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.params[name] ?? fallback;
    if (typeof value !== 'boolean') this.fail(name, 'true or false');
    return value;
  }

  durationMs(name: string, fallback: number, range: { min?: number; max?: number } = {}): number {
    const value = this.params[name];
    if (value === undefined) return fallback;
    const min = range.min ?? 0;
    const expected = `a duration such as 500ms or 2s${min > 0 ? `, at least ${min} ms` : ''}${range.max !== undefined ? `, at most ${range.max} ms` : ''}`;
    let ms: number;
    try {
      ms = parseDuration(value as string | number);
    } catch {
      return this.fail(name, expected);
    }
    if (!(ms >= min) || (range.max !== undefined && ms > range.max)) this.fail(name, expected);
    return ms;
  }

  /** A deadline: 0 would fail every time, so at least 1 ms. */
  timeoutMs(name: string, fallback: number): number {
    return this.durationMs(name, fallback, { min: 1 });
  }

  /** A size of at least 1 MiB (a zero-sized DIMM, allocation or limit is always a mistake). */
  sizeMiB(name: string, fallback?: number): number {
    const value = this.params[name];
    if (value === undefined) {
      if (fallback === undefined) this.fail(name, 'a size such as 128M or 1G');
      return fallback;
    }
    let mib: number;
    try {
      mib = parseSizeMiB(value as string | number);
    } catch {
      return this.fail(name, 'a size such as 128M or 1G');
    }
    if (!(mib >= 1)) this.fail(name, 'a size of at least 1M, such as 128M or 1G');
    return mib;
  }

  bytes(name: string): number | undefined {
    const value = this.params[name];
    if (value === undefined) return undefined;
    let bytes: number;
    try {
      bytes = parseSizeBytes(value as string | number);
    } catch {
      return this.fail(name, 'a size such as 10G or 512M');
    }
    if (!(bytes >= 1)) this.fail(name, 'a size above 0, such as 10G or 512M');
    return bytes;
  }

  oneOf<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const value = this.params[name] ?? fallback;
    if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) this.fail(name, `one of ${choices.join(', ')}`);
    return value as T;
  }

  /** "50%" → { fraction: 0.5 }, "256M" → { mib: 256 }; a fraction is above 0% and at most 100%. */
  fractionOrSize(name: string): { fraction: number } | { mib: number } {
    const value = this.params[name];
    const expected = 'a size such as 256M or a fraction of the full memory above 0% and at most 100%, such as 50%';
    if (value === undefined) this.fail(name, expected);
    if (typeof value === 'string' && /^\d+(\.\d+)?%$/.test(value)) {
      const fraction = Number(value.slice(0, -1)) / 100;
      if (!(fraction > 0 && fraction <= 1)) this.fail(name, expected);
      return { fraction };
    }
    if (typeof value === 'number' && value > 0 && value <= 1) return { fraction: value };
    try {
      const mib = parseSizeMiB(value as string | number);
      if (mib >= 1) return { mib };
    } catch {
      // falls through to the message naming every accepted form
    }
    return this.fail(name, expected);
  }
}
