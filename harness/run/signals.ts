import { rootScope } from '../core/scope.js';

export interface InterruptHandling {
  /** Aborted on the first Ctrl+C / SIGTERM: finish gracefully. */
  readonly signal: AbortSignal;
  /** Remove the handlers. */
  uninstall(): void;
}

/**
 * First SIGINT/SIGTERM aborts `signal` so running work stops gracefully and is recorded as
 * interrupted; a second one tears everything down synchronously and exits at once (130).
 */
export function handleInterrupts(onFirst?: (signalName: NodeJS.Signals) => void): InterruptHandling {
  const controller = new AbortController();
  let count = 0;
  const handler = (signalName: NodeJS.Signals): void => {
    count++;
    if (count === 1) {
      onFirst?.(signalName);
      controller.abort(new Error(`interrupted by ${signalName}`));
      return;
    }
    process.stderr.write(`\nbothworlds: second ${signalName}, forcing teardown\n`);
    rootScope.disposeSync();
    process.exit(130);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    uninstall: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
