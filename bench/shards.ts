import { makeTempDir } from '../harness/core/temp-dir.js';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { projectRoot } from '../harness/core/project-root.js';
import { readResults } from '../harness/report/results-store.js';
import type { BenchLine } from './stats.js';

const SHARDS = 4;

/**
 * CI sharding end to end through the CLI: a 40-cell local matrix (some cells fail on purpose) run
 * once whole, and as 4 shards side by side (as 4 CI jobs would) merged with `bothworlds merge`.
 * The merged run must hold the same cells with the same outcomes and reasons as the whole run.
 */
export async function benchShards(): Promise<BenchLine[]> {
  const dir = makeTempDir('bench-shards-');
  const file = join(dir, 'shards.yaml');
  writeFileSync(
    file,
    `name: shards
app:
  command: [/bin/sh, -c, 'test "$BW_AXIS_A" != 3 || { echo "a=3 fails on purpose"; exit 1; }']
  timeout: 30s
defaults: {backend: local}
axes: {a: [0, 1, 2, 3, 4, 5, 6, 7], b: [0, 1, 2, 3, 4]}
timeout: 30s
`,
  );
  const cli = (args: string[]) => execa(process.execPath, [join(projectRoot(), 'bin/bothworlds.js'), ...args], { reject: false, cwd: dir });
  const runDir = (root: string) => join(root, readdirSync(root)[0]!);
  try {
    let started = performance.now();
    await cli(['run', file, '--reports', join(dir, 'whole'), '--plain']);
    const wholeMs = performance.now() - started;
    started = performance.now();
    await Promise.all(Array.from({ length: SHARDS }, (_, i) => cli(['run', file, '--shard', `${i + 1}/${SHARDS}`, '--reports', join(dir, `shard-${i + 1}`), '--plain'])));
    const shardMs = performance.now() - started;
    const merged = await cli(['merge', ...Array.from({ length: SHARDS }, (_, i) => runDir(join(dir, `shard-${i + 1}`))), '--out', join(dir, 'merged')]);
    // 1 means "some cell failed", as for run.
    if (merged.exitCode !== 0 && merged.exitCode !== 1) throw new Error(`merge failed (${merged.exitCode}): ${merged.stderr}`);
    const whole = await readResults(runDir(join(dir, 'whole')));
    const combined = await readResults(join(dir, 'merged'));
    const outcomes = (cells: typeof whole.cells) => new Map(cells.map((c) => [c.id, `${c.outcome}: ${c.reason ?? ''}`]));
    const [a, b] = [outcomes(whole.cells), outcomes(combined.cells)];
    const differing = [...new Set([...a.keys(), ...b.keys()])].filter((id) => a.get(id) !== b.get(id));
    const failed = whole.cells.filter((c) => c.outcome === 'failed').length;
    return [
      { name: `${whole.cells.length} local cells in one run`, value: wholeMs, unit: 'ms', detail: `${failed} failed on purpose` },
      { name: `the same as ${SHARDS} shards side by side, then merge`, value: shardMs, unit: 'ms', detail: `${combined.cells.length} cells merged` },
      { name: 'cells whose outcome or reason differs, merged vs one run (target 0)', value: differing.length, unit: 'count', detail: differing.slice(0, 3).join(', ') || 'identical' },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
