import { existsSync, renameSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { pollUntil } from '../core/deadline.js';
import type { QmpClient } from '../qmp/client.js';
import type { QemuMachine } from '../machines/qemu/machine.js';
import { migrationEnd } from './migration-end.js';
import type { StateFormat } from './state-format.js';

export interface SavedSnapshot {
  file: string;
  bytes: number;
  saveMs: number;
}

/** Quote a path for the `sh -c` QEMU runs behind an `exec:` migration URI. */
export function shellQuote(path: string): string {
  return `'${path.replace(/'/g, `'\\''`)}'`;
}

/** The capabilities a snapshot's save and load share: events (to await the end) and the format. */
export async function setStateCapabilities(qmp: QmpClient, format: StateFormat, on: boolean): Promise<void> {
  await qmp.execute('migrate-set-capabilities', {
    capabilities: [{ capability: 'events', state: true }, ...(format === 'mapped-ram' ? [{ capability: 'mapped-ram' as const, state: on }] : [])],
  });
}

/**
 * Save a guest's full state to `file`: `stop`, then migrate to `file:` with mapped-ram, or to
 * `exec:cat` where QEMU lacks it (7.2). The file appears only when complete (written under a temp
 * name, then renamed), so two savers of one configuration never see half a snapshot.
 * `resume`: the guest goes on running afterwards (a cell's own machine that donated its state);
 * its migration settings are put back so a later live migration of it is unaffected.
 */
export async function saveSnapshot(
  machine: QemuMachine,
  file: string,
  format: StateFormat,
  options: { timeoutMs?: number; resume?: boolean } = {},
): Promise<SavedSnapshot> {
  const { qmp } = machine;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const started = performance.now();
  const previous = await qmp.execute('query-migrate-parameters');
  const stopped = qmp.waitForEvent('STOP', { timeoutMs: 10_000 });
  await qmp.execute('stop');
  await stopped;
  await qmp.execute('migrate-set-parameters', { 'max-bandwidth': 10 * 1024 ** 3 });
  await setStateCapabilities(qmp, format, true);
  const temp = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.part`;
  const ended = migrationEnd(qmp, { timeoutMs, what: `the snapshot of ${machine.name}`, code: 'SNAPSHOT_SAVE' });
  await qmp.execute('migrate', {
    uri: format === 'mapped-ram' ? `file:${temp}` : `exec:cat > ${shellQuote(temp)} && mv -f ${shellQuote(temp)} ${shellQuote(file)}`,
  });
  await ended;
  if (format === 'mapped-ram') {
    renameSync(temp, file);
  } else {
    // `completed` means QEMU wrote its last byte into the pipe; the shell renames once cat has exited.
    await pollUntil(async () => existsSync(file), (present) => present, { timeoutMs: 30_000, intervalMs: 5, what: `${file} to be renamed into place` });
  }
  const saveMs = performance.now() - started;
  if (options.resume) {
    await setStateCapabilities(qmp, format, false);
    if (previous['max-bandwidth'] !== undefined) await qmp.execute('migrate-set-parameters', { 'max-bandwidth': previous['max-bandwidth'] });
    await qmp.execute('cont');
  }
  return { file, bytes: (await stat(file)).size, saveMs };
}
