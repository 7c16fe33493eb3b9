import { ConfigError } from '../core/errors.js';
import { parseDuration, parseSizeBytes, parseSizeMiB } from '../matrix/units.js';

/** Typed reads of an event's `with:` parameters; a wrong value names the event, the parameter and the forms accepted. */
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
        `event ${kind}: unknown parameter ${unknown.join(', ')}; ${allowed.length > 0 ? `it takes ${allowed.join(', ')}` : 'it takes no parameters'}`,
      );
    }
  }

  fail(name: string, expected: string): never {
    throw new ConfigError('EVENT_PARAM', `event ${this.kind}: parameter ${name}=${JSON.stringify(this.params[name])} must be ${expected}`);
  }

  has(name: string): boolean {
    return this.params[name] !== undefined;
  }

  int(name: string, fallback: number): number {
    const value = this.params[name] ?? fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) this.fail(name, 'a whole number');
    return value;
  }

  positiveInt(name: string, fallback: number): number {
    const value = this.int(name, fallback);
    if (value < 1) this.fail(name, 'a whole number of at least 1');
    return value;
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.params[name] ?? fallback;
    if (typeof value !== 'boolean') this.fail(name, 'true or false');
    return value;
  }

  durationMs(name: string, fallback: number): number {
    const value = this.params[name];
    if (value === undefined) return fallback;
    let ms: number;
    try {
      ms = parseDuration(value as string | number);
    } catch {
      return this.fail(name, 'a duration such as 500ms or 2s');
    }
    if (!(ms >= 0)) this.fail(name, 'a duration such as 500ms or 2s');
    return ms;
  }

  sizeMiB(name: string, fallback?: number): number {
    const value = this.params[name];
    if (value === undefined) {
      if (fallback === undefined) this.fail(name, 'a size such as 128M or 1G');
      return fallback;
    }
    try {
      return parseSizeMiB(value as string | number);
    } catch {
      return this.fail(name, 'a size such as 128M or 1G');
    }
  }

  bytes(name: string): number | undefined {
    const value = this.params[name];
    if (value === undefined) return undefined;
    try {
      return parseSizeBytes(value as string | number);
    } catch {
      return this.fail(name, 'a size such as 10G or 512M');
    }
  }

  oneOf<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const value = this.params[name] ?? fallback;
    if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) this.fail(name, `one of ${choices.join(', ')}`);
    return value as T;
  }

  /** "50%" → { fraction: 0.5 }, "256M" → { mib: 256 } */
  fractionOrSize(name: string): { fraction: number } | { mib: number } {
    const value = this.params[name];
    if (typeof value === 'string' && /^\d+(\.\d+)?%$/.test(value)) return { fraction: Number(value.slice(0, -1)) / 100 };
    if (typeof value === 'number' && value > 0 && value <= 1) return { fraction: value };
    const mib = this.sizeMiB(name);
    if (mib <= 0) this.fail(name, 'a positive size such as 256M or a fraction such as 50%');
    return { mib };
  }
}
