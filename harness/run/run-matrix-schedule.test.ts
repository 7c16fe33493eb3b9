import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMatrix } from '../matrix/load.js';
import { expandMatrix } from '../matrix/expand.js';
import { runMatrix, type RunProgress } from './run-matrix.js';

/** One more configuration than cores (up to 6), two cells each: the last donor must wait for a core. */
const CPUS = ['Nehalem', 'SandyBridge', 'max', 'Westmere', 'IvyBridge', 'qemu64'].slice(0, availableParallelism() + 1);
const MATRIX = `name: schedule
app:
  command: [/bin/sh, -c, "true"]
  timeout: 60s
defaults: {backend: qemu, memory: 256M}
axes:
  cpu: [${CPUS.join(', ')}]
  build: [a, b]
timeout: 240s
`;

/** The runner with snapshots, real guests under TCG: which cell starts when. */
describe('run order with snapshots', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-schedule-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('boots one donor per core, and starts each clone only once its snapshot is saved', async () => {
    writeFileSync(join(dir, 'm.yaml'), MATRIX);
    const matrix = await loadMatrix(join(dir, 'm.yaml'));
    const { cells } = expandMatrix(matrix);
    const seen: string[] = [];
    const progress: RunProgress = { cellStarted: (id) => void seen.push(`start ${id}`), cellFinished() {}, message: (text) => void seen.push(text), close() {} };
    const outcome = await runMatrix(matrix, cells, { reportsRoot: join(dir, 'reports'), snapshotDir: join(dir, 'snapshots'), signal: new AbortController().signal, progress });

    expect(outcome.record.cells.map((c) => c.outcome)).toEqual(cells.map(() => 'passed'));
    // A clone that booted cold says why in the run's messages (a decision, a failed save or restore).
    const why = seen.filter((line) => /cold boot|could not|would not pay/.test(line)).join('\n');
    expect(outcome.record.cells.filter((c) => c.metrics.snapshot_restored?.value === 1).map((c) => c.id), why).toHaveLength(CPUS.length);
    const at = (pattern: RegExp): number => seen.findIndex((line) => pattern.test(line));
    for (const cpu of CPUS) {
      const [donor, clone] = cells.filter((c) => c.machine.cpuModel === cpu).map((c) => c.id);
      const saved = at(new RegExp(`saved from ${donor}`));
      expect(saved, `${donor} donated`).toBeGreaterThan(at(new RegExp(`^start ${donor}$`)));
      expect(at(new RegExp(`^start ${clone}$`)), `${clone} started after its snapshot`).toBeGreaterThan(saved);
    }
    // The donor beyond the cores starts only once a boot ended (the guest answered); a host of more
    // than 5 cores boots them all at once.
    if (CPUS.length <= availableParallelism()) return;
    const last = cells.find((c) => c.machine.cpuModel === CPUS.at(-1))!.id;
    expect(at(new RegExp(`^start ${last}$`))).toBeGreaterThan(at(/: cold boot \(it donates/));
  }, 600_000);
});
