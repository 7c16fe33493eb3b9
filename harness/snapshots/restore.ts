import { shellQuote, setStateCapabilities } from './save.js';
import { migrationEnd } from './migration-end.js';
import type { StateFormat } from './state-format.js';
import type { QemuInstance } from '../machines/qemu/instance.js';

/**
 * Load a snapshot into a QEMU started with `-incoming defer`, then `cont`: the state was saved
 * stopped, so the guest stays paused after the load until told (QEMU-NOTES).
 */
export async function loadSnapshot(instance: QemuInstance, file: string, format: StateFormat, timeoutMs = 60_000): Promise<void> {
  const { qmp } = instance;
  await setStateCapabilities(qmp, format, true);
  const ended = migrationEnd(qmp, { timeoutMs, what: `the snapshot restore from ${file}`, code: 'SNAPSHOT_RESTORE' });
  await qmp.execute('migrate-incoming', { uri: format === 'mapped-ram' ? `file:${file}` : `exec:cat ${shellQuote(file)}` });
  await ended;
  // A live migration of this clone later goes over a socket, where mapped-ram is refused.
  await setStateCapabilities(qmp, format, false);
  await qmp.execute('cont');
}
