import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { InfrastructureError } from '../core/errors.js';
import { pollUntil } from '../core/deadline.js';
import type { QemuMachine } from '../machines/qemu/machine.js';

export interface SavedSnapshot {
  file: string;
  bytes: number;
  saveMs: number;
}

/** Quote a path for the `sh -c` QEMU runs behind an `exec:` migration URI. */
export function shellQuote(path: string): string {
  return `'${path.replace(/'/g, `'\\''`)}'`;
}

/**
 * Save a running guest's full state to `file`: `stop`, then migrate to `exec:cat` (QEMU 7.2 has
 * no `file:` URI). The temp file is renamed by the same shell once `cat` has exited, so `file`
 * appears only when complete, and two savers of one configuration never see half a snapshot.
 */
export async function saveSnapshot(machine: QemuMachine, file: string, timeoutMs = 60_000): Promise<SavedSnapshot> {
  const { qmp } = machine;
  const started = performance.now();
  const stopped = qmp.waitForEvent('STOP', { timeoutMs: 10_000 });
  await qmp.execute('stop');
  await stopped;
  await qmp.execute('migrate-set-parameters', { 'max-bandwidth': 10 * 1024 ** 3 });
  const temp = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.part`;
  await qmp.execute('migrate', { uri: `exec:cat > ${shellQuote(temp)} && mv -f ${shellQuote(temp)} ${shellQuote(file)}` });
  const info = await pollUntil(
    () => qmp.execute('query-migrate'),
    (reply) => reply.status === 'completed' || reply.status === 'failed' || reply.status === 'cancelled',
    { timeoutMs, intervalMs: 10, what: `snapshot of ${machine.name} to be written` },
  );
  if (info.status !== 'completed') {
    throw new InfrastructureError('SNAPSHOT_SAVE', `saving a snapshot of ${machine.name} failed: ${info['error-desc'] ?? info.status}`);
  }
  await pollUntil(async () => existsSync(file), (present) => present, {
    timeoutMs: 30_000,
    intervalMs: 5,
    what: `${file} to be renamed into place`,
  });
  return { file, bytes: (await stat(file)).size, saveMs: performance.now() - started };
}
