import type { QmpClient } from '../qmp/client.js';

/**
 * How a snapshot's RAM state is written: `mapped-ram` (QEMU >= 9.0: `file:` URI, every page at a
 * fixed offset, zero pages left as holes; loads ~1.5x faster) or `stream` (`exec:cat`, QEMU 7.2).
 * Both sides of a save/restore must agree, so the format is part of the file's name.
 */
export type StateFormat = 'mapped-ram' | 'stream';

const probed = new WeakMap<QmpClient, Promise<StateFormat>>();

/** Asked of the running QEMU (its capability list), never assumed from the version. */
export function stateFormatOf(qmp: QmpClient): Promise<StateFormat> {
  let format = probed.get(qmp);
  if (!format) {
    format = qmp
      .execute('query-migrate-capabilities')
      .then((caps) => ((caps as Array<{ capability: string }>).some((c) => c.capability === 'mapped-ram') ? 'mapped-ram' : 'stream'));
    probed.set(qmp, format);
  }
  return format;
}

/** The state file of a snapshot folder for a format. */
export function stateFileName(format: StateFormat): string {
  return format === 'mapped-ram' ? 'state.mapped-ram' : 'state';
}
