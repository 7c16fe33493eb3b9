import { AsyncResource } from 'node:async_hooks';
import type { ResourceScope } from '../core/scope.js';
import { LineBuffer } from '../machines/line-source.js';
import { QemuInstance } from '../machines/qemu/instance.js';
import type { PrestartedQemu, QemuLaunch } from '../machines/qemu/machine.js';

/** A QEMU of one configuration, started and brought up ahead of need, with what that cost. */
export interface SpareQemu extends PrestartedQemu {
  /** Off-critical-path steps (ms): QEMU start, snapshot load, agent sync, ... */
  steps: Record<string, number>;
}

/**
 * QEMUs started ahead of need (`-incoming defer`), each then made ready by `warm` (the pool loads
 * the snapshot into it and syncs its agent), so a cell restored from a snapshot waits only for
 * what is its own (clock, hostname). They belong to the run's scope until a cell takes one (then
 * the cell's machine stops it), so none outlives the run; at most `limit` exist at a time.
 */
export class SpareQemus {
  private readonly waiting = new Map<string, Array<Promise<SpareQemu | undefined>>>();
  private counter = 0;
  private live = 0;
  /** Created with the pool, outside any cell: spares are no cell's (transcripts, ambient state). */
  private readonly detached = new AsyncResource('bothworlds.spare-qemus');

  constructor(
    private readonly scope: ResourceScope,
    private readonly limit = 4,
  ) {}

  /** Start one in the background, unless `limit` are up; a spare that fails is simply not there. */
  prestart(key: string, launch: QemuLaunch, warm: (instance: QemuInstance, lines: LineBuffer) => Promise<Record<string, number>>): void {
    if (this.live >= this.limit) return;
    this.live++;
    const lines = new LineBuffer();
    const name = `spare-${key.slice(0, 8)}-${++this.counter}`;
    const starting = this.detached.runInAsyncScope(async (): Promise<SpareQemu | undefined> => {
      const started = performance.now();
      let instance: QemuInstance | undefined;
      try {
        instance = await QemuInstance.start({ scope: this.scope, lines, name, config: { ...launch, incoming: 'defer' } });
        const qemuStartMs = performance.now() - started;
        const steps = await warm(instance, lines);
        return { instance, lines, steps: { spare_qemu_start_ms: qemuStartMs, ...steps } };
      } catch {
        await instance?.stop().catch(() => undefined);
        this.live--;
        return undefined;
      }
    });
    const list = this.waiting.get(key) ?? [];
    list.push(starting);
    this.waiting.set(key, list);
  }

  /** Spares of this configuration started and not taken yet (some may still be warming). */
  count(key: string): number {
    return this.waiting.get(key)?.length ?? 0;
  }

  /** A spare of this configuration (awaiting one still warming), or undefined. */
  async take(key: string): Promise<SpareQemu | undefined> {
    const list = this.waiting.get(key);
    while (list && list.length > 0) {
      const spare = await list.shift()!;
      if (!spare) continue;
      this.live--;
      if (spare.instance.process.running && spare.instance.qmp.state === 'running' && spare.instance.agent) return spare;
      await spare.instance.stop().catch(() => undefined);
    }
    return undefined;
  }
}
