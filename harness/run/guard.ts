import { DeadlineError, InfrastructureError } from '../core/errors.js';

/** The run was interrupted (Ctrl+C) while the cell ran. */
export class InterruptedError extends InfrastructureError {
  constructor(reason: unknown) {
    super('INTERRUPTED', `interrupted: ${reason instanceof Error ? reason.message : String(reason)}`);
  }
}

/**
 * Races a cell's work against everything that can end it early: the cell deadline, Ctrl+C,
 * and the machine being lost (QEMU crashed). The first of those wins; teardown then stops the
 * abandoned work by killing what it waits on.
 */
export class CellGuard {
  /** Rejects with the first reason to stop. */
  readonly stopped: Promise<never>;
  private stop!: (error: Error) => void;
  private readonly timer: NodeJS.Timeout;
  private readonly onAbort: () => void;

  constructor(
    timeoutMs: number,
    what: string,
    private readonly signal: AbortSignal,
  ) {
    this.stopped = new Promise<never>((_, reject) => (this.stop = reject));
    this.stopped.catch(() => undefined);
    this.timer = setTimeout(() => this.stop(new DeadlineError(what, timeoutMs)), timeoutMs);
    this.timer.unref();
    this.onAbort = () => this.stop(new InterruptedError(signal.reason));
    if (signal.aborted) this.onAbort();
    else signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Also stop when this resolves (a machine's `lost` promise). */
  watch(lost: Promise<Error> | undefined): void {
    // `lost` never rejects by contract; were it to, the cell stops all the same.
    lost?.then(
      (error) => this.stop(error),
      (error: unknown) => this.stop(error instanceof Error ? error : new Error(String(error))),
    );
  }

  run<T>(work: Promise<T>): Promise<T> {
    work.catch(() => undefined);
    return Promise.race([work, this.stopped]);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.signal.removeEventListener('abort', this.onAbort);
  }
}
