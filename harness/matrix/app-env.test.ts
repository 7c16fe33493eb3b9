import { describe, expect, it } from 'vitest';
import type { Cell } from '../model/cell.js';
import { runOneCell } from '../programmatic.js';
import { applicationEnv } from '../run/application.js';
import { appEnv } from './app-env.js';
import { expandMatrix } from './expand.js';
import { parseMatrix } from './load.js';

// Axes a user axis and app.env both name (TIER), a known axis app.env overrides (VCPUS), a name with a dash.
const MATRIX = `name: env
app:
  command: [sh, -c, 'env | grep -E "^(BW_|K=)" | sort']
  env: {K: v, BW_AXIS_TIER: from-env, BW_AXIS_VCPUS: from-env}
  timeout: 30s
defaults: {backend: local}
axes: {tier: [small, large], pool-size: [3], vcpus: [1]}
timeout: 30s
`;

/** What the app saw before cells shared one app object: expansion put app.env + user axes in each cell's own app.env. */
function oldApplicationEnv(cell: Cell): Record<string, string> {
  const own: Record<string, string> = { ...cell.app.env };
  for (const key of ['tier', 'pool-size']) own[`BW_AXIS_${key.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`] = String(cell.axes[key]);
  const env: Record<string, string> = { BW_CELL_ID: cell.id };
  for (const [name, value] of Object.entries(cell.axes)) env[`BW_AXIS_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`] = String(value);
  return { ...env, ...own };
}

describe('the environment built from the axes', () => {
  const { cells } = expandMatrix(parseMatrix(MATRIX, '/tmp/env.yaml'));

  it('is what each cell carried in its own app before, in the same order, with one app object for all cells', () => {
    expect(cells).toHaveLength(2);
    expect(cells[1]!.app).toBe(cells[0]!.app);
    for (const cell of cells) expect(Object.entries(applicationEnv(cell))).toEqual(Object.entries(oldApplicationEnv(cell)));
    expect(appEnv(cells[0]!)).toEqual({ K: 'v', BW_AXIS_TIER: cells[0]!.axes.tier, BW_AXIS_VCPUS: 'from-env', BW_AXIS_POOL_SIZE: '3' });
  });

  it('reaches a local application unchanged', async () => {
    const cell = cells.find((c) => c.axes.tier === 'large')!;
    const result = await runOneCell(cell);
    expect(result.outcome, result.reason).toBe('passed');
    const seen = result.log.filter((line) => line.source === 'app').map((line) => line.text);
    expect(seen).toEqual([`BW_AXIS_BACKEND=local`, `BW_AXIS_POOL_SIZE=3`, `BW_AXIS_TIER=large`, `BW_AXIS_VCPUS=from-env`, `BW_CELL_ID=${cell.id}`, 'K=v']);
  });
});
