import { describe, expect, it } from 'vitest';
import { DEFAULT_MACHINE } from '../model/machine-spec.js';
import { CostModel, configurationOf, snapshotPays } from './plan.js';

const costs = { coldMs: 2_100, restoreMs: 100, saveMs: 200 };

describe('when a snapshot pays', () => {
  it('never for one cell; from two cells when the first donates its state', () => {
    expect(snapshotPays(1, 'donor', costs)).toBe(false);
    expect(snapshotPays(2, 'donor', costs)).toBe(true);
    // Saving slower than a cold boot: two cells do not pay, three do.
    expect(snapshotPays(2, 'donor', { ...costs, saveMs: 2_500 })).toBe(false);
    expect(snapshotPays(3, 'donor', { ...costs, saveMs: 2_500 })).toBe(true);
  });

  it('needs more cells when a separate golden guest boots (a disk image)', () => {
    expect(snapshotPays(1, 'golden', costs)).toBe(false);
    expect(snapshotPays(2, 'golden', costs)).toBe(true);
    expect(snapshotPays(2, 'golden', { coldMs: 2_000, restoreMs: 1_000, saveMs: 300 })).toBe(false);
  });

  it('uses the medians the run measured instead of the priors', () => {
    const model = new CostModel();
    expect(model.costs.coldMs).toBe(2_500);
    for (const ms of [9_000, 8_000, 100_000]) model.observe('coldMs', ms);
    expect(model.costs.coldMs).toBe(9_000);
  });

  it('scales what it has not measured yet from what it has (a busy host is slow at everything)', () => {
    const model = new CostModel();
    // A restore that waited for a spare still warming on a loaded host, before any cold boot.
    model.observe('restoreMs', 4_149);
    expect(model.costs.coldMs).toBeGreaterThan(4_149 * 10);
    expect(snapshotPays(2, 'donor', model.costs)).toBe(true);
  });
});

describe('configurations', () => {
  it('treats specs with the same values in another key order as one configuration', () => {
    const reordered = Object.fromEntries(Object.entries(DEFAULT_MACHINE).reverse()) as typeof DEFAULT_MACHINE;
    expect(configurationOf(reordered)).toBe(configurationOf(DEFAULT_MACHINE));
  });
});

describe('cold boots at once', () => {
  it('lets no more than the limit run, and the rest follow in order', async () => {
    const { BootGate } = await import('./plan.js');
    const gate = new BootGate(2);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const boot = (i: number) =>
      gate.run(async () => {
        most = Math.max(most, ++running);
        // Stands for a boot's duration: the gate is what is under test.
        await new Promise((r) => setTimeout(r, 10));
        running--;
        order.push(i);
      });
    await Promise.all([0, 1, 2, 3, 4].map(boot));
    expect(most).toBe(2);
    expect(order.slice(2)).toEqual([2, 3, 4]);
  });
});
