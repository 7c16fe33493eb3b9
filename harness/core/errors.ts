/**
 * One error hierarchy for bothworlds. Every error has a stable `code` and a `category` that decides
 * the outcome of a cell:
 * - `infrastructure` → the cell is an `error` (QEMU crashed, boot timed out, agent silent);
 * - `application`    → the cell `failed` (the application under test misbehaved);
 * - `unsupported`    → the cell is `skipped`, with the message as the reason;
 * - `config`         → bad input from the user; nothing starts (exit code 2).
 */
export type ErrorCategory = 'infrastructure' | 'application' | 'unsupported' | 'config';

export interface ErrorOptions {
  cause?: unknown;
  /** Structured context (what was sent, what came back, last value seen...). Never secrets. */
  details?: Record<string, unknown>;
}

export class BothworldsError extends Error {
  readonly code: string;
  readonly category: ErrorCategory;
  readonly details: Record<string, unknown>;
  /** Errors raised while cleaning up after this one; attached, never allowed to replace it. */
  readonly cleanupErrors: unknown[] = [];

  constructor(code: string, category: ErrorCategory, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.category = category;
    this.details = options.details ?? {};
  }
}

/** Infrastructure failed: the lab's fault, not the application's. */
export class InfrastructureError extends BothworldsError {
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(code, 'infrastructure', message, options);
  }
}

/** The combination cannot run here; the cell is skipped with this reason. */
export class UnsupportedError extends BothworldsError {
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(code, 'unsupported', message, options);
  }
}

/** The application under test misbehaved. */
export class ApplicationError extends BothworldsError {
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(code, 'application', message, options);
  }
}

/** The user's input is wrong (matrix file, CLI flags). */
export class ConfigError extends BothworldsError {
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(code, 'config', message, options);
  }
}

/** A wait ran past its deadline. Names what was awaited and the last value seen. */
export class DeadlineError extends InfrastructureError {
  constructor(what: string, timeoutMs: number, lastSeen?: unknown, options: ErrorOptions = {}) {
    const seen = lastSeen === undefined ? '' : `; last seen: ${describe(lastSeen)}`;
    super('DEADLINE', `timed out after ${timeoutMs} ms waiting for ${what}${seen}`, {
      ...options,
      details: { what, timeoutMs, lastSeen, ...options.details },
    });
  }
}

export function categoryOf(error: unknown): ErrorCategory {
  return error instanceof BothworldsError ? error.category : 'infrastructure';
}

/** Attach an error raised during cleanup to the primary error without replacing it. */
export function attachCleanupError(primary: unknown, cleanup: unknown): void {
  if (primary instanceof BothworldsError) primary.cleanupErrors.push(cleanup);
  else if (primary instanceof Error) {
    const list = ((primary as Error & { cleanupErrors?: unknown[] }).cleanupErrors ??= []);
    list.push(cleanup);
  }
}

/** A one-line description of an error and its causes, for reports and logs. */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    if (current instanceof Error) {
      const code = current instanceof BothworldsError ? `[${current.code}] ` : '';
      parts.push(`${code}${current.message}`);
      current = current.cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.join(' ← caused by: ');
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value);
  try {
    const text = JSON.stringify(value);
    return text.length > 200 ? `${text.slice(0, 200)}…` : text;
  } catch {
    return String(value);
  }
}
