/**
 * - passed: everything checked held.
 * - failed: the application under test misbehaved (a check failed, wrong exit code).
 * - error: infrastructure failed (QEMU crashed, boot timed out, agent silent); not the app's fault.
 * - skipped: the combination is impossible here; `reason` says why.
 * - interrupted: the run was stopped (Ctrl+C) while the cell ran.
 */
export type Outcome = 'passed' | 'failed' | 'error' | 'skipped' | 'interrupted';

export const OUTCOMES: readonly Outcome[] = ['passed', 'failed', 'error', 'skipped', 'interrupted'];

/** Combine outcomes of parts into the whole: error > failed > interrupted > passed; all skipped → skipped. */
export function worstOutcome(outcomes: Outcome[]): Outcome {
  if (outcomes.length === 0) return 'passed';
  if (outcomes.includes('error')) return 'error';
  if (outcomes.includes('failed')) return 'failed';
  if (outcomes.includes('interrupted')) return 'interrupted';
  if (outcomes.every((o) => o === 'skipped')) return 'skipped';
  return 'passed';
}
