import type { AxisValue } from '../model/cell.js';
import { KNOWN_AXES } from './limits.js';

/** The variable a user axis sets in the application's environment: `pool-size` → BW_AXIS_POOL_SIZE. */
export function axisVariable(name: string): string {
  return `BW_AXIS_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/**
 * The app's own env, then its user axes as BW_AXIS_<NAME> (an axis wins over the same name in
 * app.env): what host-side commands (health, load) get and what the app gets after BW_CELL_ID and
 * the known axes. Built from the cell's axes when needed, so all cells of a matrix share one app
 * object (a copy of it per cell was ~150 bytes of a 10,000-cell list's ~350 a cell).
 */
export function appEnv(cell: { app: { env?: Record<string, string> }; axes: Record<string, AxisValue> }): Record<string, string> {
  const env: Record<string, string> = Object.assign({}, cell.app.env);
  for (const name of Object.keys(cell.axes)) if (!KNOWN_AXES.includes(name)) env[axisVariable(name)] = String(cell.axes[name]);
  return env;
}
