import { InfrastructureError } from '../core/errors.js';
import { withDeadline } from '../core/deadline.js';
import type { QmpClient, QmpEvent } from '../qmp/client.js';

const FINAL = new Set(['completed', 'failed', 'cancelled']);

/**
 * Resolve when a migration (a save to a file, or a load from one) ends, from QEMU's MIGRATION
 * events (capability `events` must be on). Subscribe before the command that starts it.
 * A failed or cancelled migration rejects with `code`, naming what QEMU said.
 */
export function migrationEnd(qmp: QmpClient, options: { timeoutMs: number; what: string; code: string }): Promise<void> {
  let onEvent: (event: QmpEvent) => void = () => undefined;
  const ended = new Promise<string>((resolve) => {
    onEvent = (event) => {
      const status = (event.data as { status?: string } | undefined)?.status;
      if (event.event === 'MIGRATION' && status && FINAL.has(status)) resolve(status);
    };
    qmp.on('event', onEvent);
  });
  return withDeadline(ended, options.timeoutMs, options.what)
    .finally(() => qmp.off('event', onEvent))
    .then(async (status) => {
      if (status === 'completed') return;
      const info = await qmp.execute('query-migrate').catch(() => undefined);
      throw new InfrastructureError(options.code, `${options.what} ${status}: ${info?.['error-desc'] ?? 'QEMU gave no reason'}`);
    });
}
