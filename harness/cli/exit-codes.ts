import type { CellResult } from '../model/result.js';

/**
 * 0 all passed (skips allowed), 1 some failed or flaky (or a quarantine entry expired), 2 usage/config error, 3 infrastructure errors,
 * 4 incomplete cells only (nothing failed or errored, but something asked was not done),
 * 5 not qualified (a run with a qualification policy: 0 only when qualified), 130 interrupted.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, infrastructure: 3, incomplete: 4, notQualified: 5, interrupted: 130 } as const;

/**
 * A flaky cell fails the run like a failed one. A quarantined cell (a live `quarantine:` entry)
 * still runs and is reported but does not count; an expired entry fails the run on its own.
 */
export function exitCodeFor(all: readonly Pick<CellResult, 'outcome' | 'quarantine'>[], interrupted: boolean): number {
  if (all.some((c) => c.quarantine?.expired)) return EXIT.failed;
  const cells = all.filter((c) => !c.quarantine);
  if (cells.some((c) => c.outcome === 'failed' || c.outcome === 'flaky')) return EXIT.failed;
  if (cells.some((c) => c.outcome === 'error')) return EXIT.infrastructure;
  if (interrupted || cells.some((c) => c.outcome === 'interrupted')) return EXIT.interrupted;
  if (cells.some((c) => c.outcome === 'incomplete')) return EXIT.incomplete;
  return EXIT.ok;
}
