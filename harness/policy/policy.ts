import type { AxisValue } from '../model/cell.js';
import type { Outcome } from '../model/outcome.js';

/** A planned cell as a policy sees it: its id and the axis values that produced it. */
export interface PlannedCell {
  id: string;
  axes: Record<string, AxisValue>;
}

/** Which cells a rule is about: axis values (`{cpu: [Nehalem, max], events: migrate}`) or a constraint expression. */
export interface CellSelector {
  /** As written, for messages. */
  text: string;
  matches(axes: Record<string, AxisValue>): boolean;
}

export interface Acceptance {
  /** 1-based, as people count entries in the file. */
  index: number;
  cells: CellSelector;
  reason: RegExp;
  tracking: string;
  /** YYYY-MM-DD, the last day it holds. */
  expires: string;
  outcomes: Outcome[];
}

export type LimitStat = 'max' | 'min' | 'mean' | 'median' | `p${number}`;

export interface Limit {
  text: string;
  /** `cell`, a suite name or an event kind (`migration` is read as `migrate`). */
  source: string;
  /** A metric name, or `latency` (an event's request → seen in the guest). */
  name: string;
  stat: LimitStat;
  op: '<=' | '<' | '>=' | '>';
  /** In ms for durations, bytes for sizes, percent for %, else in the metric's own unit. */
  value: number;
  dimension: 'time' | 'size' | 'percent' | 'plain';
  cells?: CellSelector;
}

export interface RepeatRule {
  cells: CellSelector;
  min: number;
}

/** A validated qualification policy. */
export interface Policy {
  /** The file it was read from (the matrix file for an inline `policy:`). */
  source: string;
  /** The file's name as the user knew it, for reports. */
  name: string;
  /** sha256 of that file's bytes. */
  sha256: string;
  inline: boolean;
  /** Undefined: every planned cell is required. */
  required?: CellSelector[];
  accepted: Acceptance[];
  repeats: RepeatRule[];
  limits: Limit[];
}
