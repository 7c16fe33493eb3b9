import type { MachineSpec } from '../model/machine-spec.js';

/** What one cell costs to start, by way, in ms: updated from what the run measures. */
export interface StartCosts {
  coldMs: number;
  restoreMs: number;
  saveMs: number;
}

/**
 * Priors from the project's 2-core TCG host (QEMU 10.0.2, default image, 512 MiB): cold boot to a
 * working agent ~2.5 s, restore ~0.15 s, save ~0.3 s. Replaced by the run's own medians as it goes.
 */
const PRIORS: StartCosts = { coldMs: 2_500, restoreMs: 150, saveMs: 300 };

/** Running medians of the last starts of each kind (a few samples suffice: only the order of magnitude decides). */
export class CostModel {
  private readonly samples: Record<keyof StartCosts, number[]> = { coldMs: [], restoreMs: [], saveMs: [] };

  observe(kind: keyof StartCosts, ms: number): void {
    const list = this.samples[kind];
    list.push(ms);
    if (list.length > 15) list.shift();
  }

  /**
   * Medians where measured; a kind not measured yet is scaled from one that was by the priors'
   * proportions, so a busy host (everything 4x slower) never compares its own slow restore with
   * the quiet prior of a cold boot.
   */
  get costs(): StartCosts {
    const kinds = Object.keys(PRIORS) as Array<keyof StartCosts>;
    const median = (kind: keyof StartCosts): number | undefined => {
      const sorted = [...this.samples[kind]].sort((a, b) => a - b);
      return sorted.length === 0 ? undefined : sorted[Math.floor(sorted.length / 2)]!;
    };
    const measured = kinds.find((kind) => median(kind) !== undefined);
    const scale = measured ? median(measured)! / PRIORS[measured] : 1;
    return Object.fromEntries(kinds.map((kind) => [kind, median(kind) ?? PRIORS[kind] * scale])) as unknown as StartCosts;
  }
}

/**
 * Whether a snapshot pays for a configuration run by `cells` cells.
 * `donor`: the first cell boots cold as it would anyway, and its state is saved before its app
 * starts: the cost is one save, the gain every later cell's cold boot minus its restore.
 * `golden`: a separate guest boots and is saved (a guest with a disk, whose donor would go on
 * writing to the disk the snapshot needs): the cost is a whole cold boot more.
 */
export function snapshotPays(cells: number, how: 'donor' | 'golden', costs: StartCosts): boolean {
  const gain = costs.coldMs - costs.restoreMs;
  return how === 'donor' ? (cells - 1) * gain > costs.saveMs : cells * gain > costs.coldMs + costs.saveMs;
}

/** Cells with the same machine spec (and the run's one application) share one QEMU launch. */
export function configurationOf(spec: MachineSpec): string {
  return JSON.stringify(sorted(spec));
}

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sorted((value as Record<string, unknown>)[k])]));
}

/**
 * At most `limit` cold boots at once (one per core: TCG boots are CPU-bound), so a runner that
 * runs more cells than cores, because restored cells are cheap, never piles boots onto the cores.
 */
export class BootGate {
  private running = 0;
  private readonly queue: Array<() => void> = [];

  constructor(readonly limit: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.queue.push(resolve));
    else this.running++;
    try {
      return await work();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.running--;
    }
  }
}
