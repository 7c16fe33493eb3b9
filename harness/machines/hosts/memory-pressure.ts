import { InfrastructureError } from '../../core/errors.js';
import { withDeadline } from '../../core/deadline.js';
import { metric } from '../../model/metrics.js';
import type { Ack, BackgroundProcess, MachineControls } from '../machine.js';
import type { ResourceScope } from '../../core/scope.js';
import type { HostShell } from './shell.js';

/**
 * The physical counterpart of ballooning: the static bw-dirty-mem tool (no python or perl needed
 * on the host) allocates, touches once and holds `sizeMiB`; release kills it. The holder is
 * registered in the scope, so it never outlives the cell.
 */
export function createMemoryPressureControl(shell: HostShell, scope: ResourceScope): NonNullable<MachineControls['memoryPressure']> {
  let holder: { process: BackgroundProcess; release(): void; sizeMiB: number } | undefined;

  const stop = async (): Promise<void> => {
    const current = holder;
    holder = undefined;
    if (!current) return;
    current.release();
    await current.process.kill('TERM');
  };

  return {
    async hold(sizeMiB: number): Promise<Ack> {
      if (!Number.isInteger(sizeMiB) || sizeMiB <= 0) throw new InfrastructureError('MEMORY_PRESSURE', `memory pressure needs a positive whole number of MiB, got ${sizeMiB}`);
      await stop();
      const tool = await shell.toolPath('dirtyMem');
      const started = performance.now();
      let ready!: () => void;
      const readyLine = new Promise<void>((resolve) => (ready = resolve));
      const lines: string[] = [];
      const process = await shell.background([tool, '--mib', String(sizeMiB), '--hold'], {
        onLine: (_stream, text) => {
          lines.push(text);
          if (text.includes('dirty-mem ready')) ready();
        },
      });
      const handle = scope.register({ name: `memory holder (${sizeMiB} MiB) on ${shell.description}`, kind: 'process', dispose: () => process.kill('KILL') });
      holder = { process, release: () => handle.release(), sizeMiB };
      const exited = process.wait(24 * 3600_000).then((r) => {
        throw new InfrastructureError('MEMORY_PRESSURE', `bw-dirty-mem exited (code ${r.exitCode}, signal ${r.signal ?? 'none'}) before holding ${sizeMiB} MiB on ${shell.description}: ${lines.slice(-3).join(' | ')}`);
      });
      try {
        await withDeadline(Promise.race([readyLine, exited]), 60_000, `bw-dirty-mem to hold ${sizeMiB} MiB on ${shell.description}`, () => lines.at(-1));
      } catch (error) {
        await stop();
        throw error;
      }
      exited.catch(() => undefined);
      return { acknowledgedAt: performance.now(), metrics: { held_mib: metric(sizeMiB, 'MiB'), allocate_ms: metric(performance.now() - started, 'ms') }, detail: { pid: process.pid } };
    },
    async release(): Promise<Ack> {
      const sizeMiB = holder?.sizeMiB ?? 0;
      await stop();
      return { acknowledgedAt: performance.now(), metrics: { released_mib: metric(sizeMiB, 'MiB') } };
    },
  };
}
