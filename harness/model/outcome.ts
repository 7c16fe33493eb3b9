/**
 * - passed: everything the matrix asked was done (every event ran, every check ran) and held.
 * - failed: the application under test misbehaved (a check failed, wrong exit code).
 * - error: infrastructure failed (QEMU crashed, boot timed out, agent silent); not the app's fault.
 * - incomplete: nothing failed, but something the cell asked for was not done (an event whose
 *   trigger never came or that the app outlived, a check that could not be evaluated): the cell
 *   did not test what it claims, so it is never `passed`. An event marked `optional` is exempt.
 * - skipped: the combination is impossible here; `reason` says why.
 * - interrupted: the run was stopped (Ctrl+C) while the cell ran.
 * - flaky: a cell run several times (`repeat:`) passed in some runs and did not in others; only a
 *   whole cell is flaky (its runs, suites and checks have the other outcomes). It fails the run as
 *   `failed` does, unless the cell is quarantined.
 */
export type Outcome = 'passed' | 'failed' | 'flaky' | 'error' | 'incomplete' | 'skipped' | 'interrupted';

export const OUTCOMES: readonly Outcome[] = ['passed', 'failed', 'flaky', 'error', 'incomplete', 'skipped', 'interrupted'];

/** Combine outcomes of parts into the whole: error > failed > flaky > interrupted > incomplete > passed; all skipped → skipped. */
export function worstOutcome(outcomes: Outcome[]): Outcome {
  if (outcomes.length === 0) return 'passed';
  if (outcomes.includes('error')) return 'error';
  if (outcomes.includes('failed')) return 'failed';
  if (outcomes.includes('flaky')) return 'flaky';
  if (outcomes.includes('interrupted')) return 'interrupted';
  if (outcomes.includes('incomplete')) return 'incomplete';
  if (outcomes.every((o) => o === 'skipped')) return 'skipped';
  return 'passed';
}
