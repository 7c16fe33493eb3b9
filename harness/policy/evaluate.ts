import type { CellResult } from '../model/result.js';
import type { Metric } from '../model/metrics.js';
import type { Outcome } from '../model/outcome.js';
import type { Qualification, QualificationReason } from '../model/qualification.js';
import type { RunRecord } from '../report/run-record.js';
import { holds, inLimitUnit, samplesOf, showValue, statistic } from './limits.js';
import type { Acceptance, PlannedCell, Policy } from './policy.js';

/**
 * The run's one verdict under a policy. Pure: the same results, plan and policy give the same
 * verdict on any machine and any day, since expiries are judged on the run's own date.
 */
export function evaluatePolicy(policy: Policy, record: RunRecord, plan: readonly PlannedCell[]): Qualification {
  const tally = new PolicyTally(policy);
  for (const cell of record.cells) tally.add(cell);
  return tally.verdict(record, plan);
}

/**
 * What a policy's verdict needs of each result, gathered a cell at a time (a run's results are
 * streamed from its folder, never all in memory): each cell's outcome and, when it did not pass,
 * its reason; each limit's metric samples. Add each cell's latest result once.
 */
export class PolicyTally {
  private readonly results = new Map<string, TalliedCell>();
  private readonly samples: Metric[][];

  constructor(private readonly policy: Policy) {
    this.samples = policy.limits.map(() => []);
  }

  add(cell: CellResult): void {
    const runs = cell.repeats?.total ?? 1;
    const quarantine = cell.quarantine && !cell.quarantine.expired ? { reason: cell.quarantine.reason, expires: cell.quarantine.expires } : undefined;
    this.results.set(cell.id, cell.outcome === 'passed' && runs === 1 && !quarantine ? PASSED : { outcome: cell.outcome, runs, ...(cell.outcome === 'passed' ? {} : { reason: reasonOf(cell) }), ...(quarantine ? { quarantine } : {}) });
    this.policy.limits.forEach((limit, i) => {
      if (!limit.cells || limit.cells.matches(cell.axes)) this.samples[i]!.push(...samplesOf(limit, [cell]));
    });
  }

  verdict(run: { startedAt: string; finishedAt?: string }, plan: readonly PlannedCell[]): Qualification {
    const { policy, results } = this;
    const asOf = (run.finishedAt ?? run.startedAt).slice(0, 10);
    const reasons: QualificationReason[] = [];
    const notes: string[] = [];
    const live: Acceptance[] = [];
    for (const acceptance of policy.accepted) {
      if (acceptance.expires < asOf) {
        reasons.push({ kind: 'acceptance-expired', message: `accepted failure #${acceptance.index} (${acceptance.cells.text}; ${acceptance.tracking}) expired on ${acceptance.expires}, before this run (${asOf}): fix the failure or renew the acceptance` });
      } else live.push(acceptance);
    }
    const required = policy.required ? plan.filter((cell) => policy.required!.some((s) => s.matches(cell.axes))) : plan;
    for (const cell of required) {
      const result = results.get(cell.id);
      if (!result || result.outcome === 'interrupted') {
        reasons.push({ kind: 'required-not-run', cell: cell.id, message: `required cell ${cell.id} was ${result ? 'interrupted' : 'not run'}` });
        continue;
      }
      if (result.outcome === 'passed') continue;
      const why = result.reason!;
      const covering = live.filter((a) => a.cells.matches(cell.axes) && a.outcomes.includes(result.outcome));
      const accepted = covering.find((a) => a.reason.test(why));
      if (accepted) notes.push(`${cell.id} ${result.outcome} as accepted (#${accepted.index}, until ${accepted.expires}, ${accepted.tracking}): ${why}`);
      else if (covering.length > 0) {
        reasons.push({ kind: 'acceptance-reason-differs', cell: cell.id, message: `required cell ${cell.id} ${result.outcome}: ${why} — accepted failure #${covering[0]!.index} covers this cell but expects a reason matching /${covering[0]!.reason.source}/` });
      } else reasons.push({ kind: 'required-not-passed', cell: cell.id, message: `required cell ${cell.id} ${result.outcome}: ${why}${quarantineNote(result)}` });
    }
    // An acceptance for a cell that now passes hides the next regression of that cell.
    for (const acceptance of live) {
      for (const cell of plan.filter((c) => acceptance.cells.matches(c.axes) && results.get(c.id)?.outcome === 'passed')) {
        reasons.push({ kind: 'acceptance-now-passes', cell: cell.id, message: `${cell.id} passed, but accepted failure #${acceptance.index} (${acceptance.tracking}) expects it to fail: the acceptance can be removed (or narrowed to the cells that still fail)` });
      }
    }
    // A pass rate is only evidence over enough runs: a cell run fewer times than the rule asks is not qualified.
    for (const rule of policy.repeats) {
      const ran = plan.filter((c) => rule.cells.matches(c.axes)).flatMap((c) => {
        const result = results.get(c.id);
        return result && result.outcome !== 'interrupted' ? [{ id: c.id, runs: result.runs }] : [];
      });
      const short = ran.filter((c) => c.runs < rule.min);
      for (const c of short) {
        reasons.push({ kind: 'repeats-too-few', cell: c.id, message: `${c.id} ran ${c.runs} time(s); the policy requires at least ${rule.min} runs of ${rule.cells.text}: set \`repeat: ${rule.min}\` in the matrix or run with --repeat ${rule.min}` });
      }
      if (ran.length > 0 && short.length === 0) notes.push(`repeats: ${ran.length} cell(s) of ${rule.cells.text} ran at least ${rule.min} times (fewest ${Math.min(...ran.map((c) => c.runs))})`);
    }
    for (const [i, limit] of policy.limits.entries()) {
      const samples = this.samples[i]!;
      const metric = `${limit.source}.${limit.name}`;
      if (samples.length === 0) {
        reasons.push({ kind: 'metric-not-measured', message: `limit "${limit.text}": no cell${limit.cells ? ` of ${limit.cells.text}` : ''} measured ${metric}, so the limit could not be checked` });
        continue;
      }
      const values = samples.map((s) => inLimitUnit(limit, s));
      const mismatch = values.find((v): v is string => typeof v === 'string');
      if (mismatch) {
        reasons.push({ kind: 'metric-not-measured', message: `limit "${limit.text}": ${mismatch}` });
        continue;
      }
      const value = statistic(limit.stat, values as number[]);
      const unit = limit.dimension === 'plain' ? ` ${samples[0]!.unit}` : '';
      const shown = `${limit.stat} of ${samples.length} sample(s) = ${showValue(limit, value)}${unit}`;
      if (holds(limit, value)) notes.push(`limit "${limit.text}" holds: ${shown}`);
      else reasons.push({ kind: 'metric-over-limit', message: `limit "${limit.text}" broken: ${metric} ${shown}` });
    }
    return {
      verdict: reasons.length === 0 ? 'qualified' : 'not qualified',
      reasons,
      notes,
      policy: { file: policy.name, inline: policy.inline, sha256: policy.sha256 },
      asOf,
    };
  }
}

interface TalliedCell {
  outcome: Outcome;
  /** How many times the cell ran (`repeat:`); 1 for a cell not repeated. */
  runs: number;
  reason?: string;
  /** A live `quarantine:` entry of the matrix: it keeps CI green, it does not qualify a release. */
  quarantine?: { reason: string; expires: string };
}

const PASSED: TalliedCell = Object.freeze({ outcome: 'passed' as Outcome, runs: 1 });

function quarantineNote(result: TalliedCell): string {
  if (!result.quarantine) return '';
  return ` (quarantined in the matrix until ${result.quarantine.expires}: ${result.quarantine.reason}; a quarantine keeps CI green but does not qualify a release: accept the failure under accepted_failures with a tracking URL and an expiry)`;
}

function reasonOf(cell: CellResult): string {
  return cell.reason ?? cell.error?.message ?? cell.outcome;
}
