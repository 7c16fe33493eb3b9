/** Why a run is not qualified: each kind is one rule of the policy that the run broke. */
export type QualificationReasonKind =
  | 'required-not-run'
  | 'required-not-passed'
  | 'acceptance-reason-differs'
  | 'acceptance-now-passes'
  | 'acceptance-expired'
  | 'metric-over-limit'
  | 'metric-not-measured'
  | 'repeats-too-few';

export interface QualificationReason {
  kind: QualificationReasonKind;
  /** One sentence for a person, naming the cell, rule, value and limit involved. */
  message: string;
  cell?: string;
}

/** The one verdict a qualification policy turns a run into. */
export interface Qualification {
  verdict: 'qualified' | 'not qualified';
  /** Every rule broken; empty when qualified. */
  reasons: QualificationReason[];
  /** What held and how (failures accepted with their tracking URL, metric values under their limit, rules not yet enforceable). */
  notes: string[];
  /** The policy's file by name (the matrix file's for an inline `policy:`) and the sha256 of its bytes. */
  policy: { file: string; inline: boolean; sha256: string };
  /** The day expiries are judged on: the run's own, so re-deriving the verdict later gives the same answer. */
  asOf: string;
}
