import { makeTempDir } from '../../core/temp-dir.js';
import { join } from 'node:path';
import type { ResourceScope } from '../../core/scope.js';
import type { QemuSockets } from './argv.js';

/**
 * A private run directory (mkdtemp makes it 0700) holding one QEMU's sockets. Registered for
 * removal before QEMU is started.
 */
export function createRunDir(scope: ResourceScope, label: string): { dir: string; sockets: QemuSockets } {
  const dir = makeTempDir(`${label.slice(0, 24)}-`);
  scope.registerTempDir(dir);
  return {
    dir,
    sockets: {
      qmp: join(dir, 'qmp.sock'),
      agent: join(dir, 'qga.sock'),
      app: join(dir, 'app.sock'),
      heartbeat: join(dir, 'heartbeat.sock'),
    },
  };
}
