import type { CellResult } from '../model/result.js';

/**
 * 0 all passed (skips allowed), 1 some failed, 2 usage/config error, 3 infrastructure errors,
 * 4 incomplete cells only (nothing failed or errored, but something asked was not done),
 * 5 not qualified (a run with a qualification policy: 0 only when qualified), 130 interrupted.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, infrastructure: 3, incomplete: 4, notQualified: 5, interrupted: 130 } as const;

export function exitCodeFor(cells: CellResult[], interrupted: boolean): number {
  if (cells.some((c) => c.outcome === 'failed')) return EXIT.failed;
  if (cells.some((c) => c.outcome === 'error')) return EXIT.infrastructure;
  if (interrupted || cells.some((c) => c.outcome === 'interrupted')) return EXIT.interrupted;
  if (cells.some((c) => c.outcome === 'incomplete')) return EXIT.incomplete;
  return EXIT.ok;
}
