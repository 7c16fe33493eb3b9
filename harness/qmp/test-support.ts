import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import type { ResourceScope } from '../core/scope.js';

/**
 * Helpers for the QMP and guest-agent tests: real processes and temp dirs, each registered in
 * the test's scope before anything waits on it, so a failing test leaves nothing behind.
 */
export function registeredTempDir(scope: ResourceScope, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scope.registerTempDir(dir);
  return dir;
}

export function spawnRegistered(scope: ResourceScope, file: string, args: string[]): ResultPromise<{ reject: false; stdin: 'ignore' }> {
  const child = execa(file, args, { reject: false, stdin: 'ignore' });
  scope.register({
    name: `${file} (pid ${child.pid})`,
    kind: 'process',
    dispose: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await child;
    },
    disposeSync: () => void child.kill('SIGKILL'),
  });
  return child;
}

/** A QEMU with no guest (QMP is all the QMP tests need); `extra` adds devices. */
export function startQemu(scope: ResourceScope, options: { machine?: string; extra?: string[]; socket?: string } = {}): { socket: string; qemu: ResultPromise } {
  const socket = options.socket ?? join(registeredTempDir(scope, 'bw-qmp-'), 'qmp.sock');
  const qemu = spawnRegistered(scope, process.env.BOTHWORLDS_QEMU ?? 'qemu-system-x86_64', [
    '-machine', options.machine ?? 'none', '-nodefaults', '-display', 'none', '-S',
    '-qmp', `unix:${socket},server=on,wait=off`,
    ...(options.extra ?? []),
  ]);
  return { socket, qemu };
}

/** A real qemu-ga on this host, listening on a unix socket (no guest needed). */
export function startHostAgent(scope: ResourceScope, dir: string, socket = join(dir, 'qga.sock')): { socket: string; qga: ResultPromise } {
  const qga = spawnRegistered(scope, '/usr/sbin/qemu-ga', ['-m', 'unix-listen', '-p', socket, '-t', dir]);
  return { socket, qga };
}
