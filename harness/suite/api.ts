import type { Cell, SuiteRef, TimelineEvent } from '../model/cell.js';
import type { MachineFacts } from '../model/facts.js';
import type { Backend } from '../model/machine-spec.js';
import type { Metric, Metrics, Unit } from '../model/metrics.js';
import type { CheckResult, EventRecord } from '../model/result.js';
import type { BackgroundProcess, MachineControls, StartedMachine } from '../machines/machine.js';

/** What a suite needs; a cell lacking any of it is `skipped` with the reason. */
export interface SuiteNeeds {
  backends?: Backend[];
  /** Needs hardware virtualisation (e.g. nested-virt checks). */
  kvm?: boolean;
  /** Control facets that must be present (e.g. ['cpus'] for hot-plug awareness). */
  controls?: Array<Exclude<keyof MachineControls, 'unsupportedReason'>>;
  /** Needs the application running (a `service`) while checks run. */
  runningApp?: boolean;
  /** Observes boot itself (boot time, early clocksource): never restore this cell from a snapshot. */
  coldBoot?: boolean;
}

export interface SuiteContext {
  readonly cell: Cell;
  readonly machine: StartedMachine;
  readonly options: Record<string, unknown>;
  /** Facts collected right after the machine started. */
  readonly facts: MachineFacts;
  /** The application under test, once started (undefined in `before`). */
  readonly app: BackgroundProcess | undefined;
  /** Event records so far. */
  readonly events: readonly EventRecord[];
  readonly signal: AbortSignal;
  /** Record a check. `passed` false makes the suite (and the cell) `failed`. */
  check(name: string, passed: boolean, message: string, metrics?: Metrics): CheckResult;
  /** Record a check that could not be evaluated here (the suite is not failed for it). */
  skipCheck(name: string, reason: string): CheckResult;
  metric(name: string, value: number, unit: Unit): Metric;
  /** Structured data for the report (flag diffs, clock samples). */
  data(key: string, value: unknown): void;
  log(text: string): void;
}

/**
 * A suite: what it needs, events it adds to the timeline, and hooks around the application.
 * All hooks are optional; `check` runs after the timeline while a service is still running.
 */
export interface Suite {
  name: string;
  description: string;
  /**
   * A JSON schema (draft-07, checked by ajv) of the suite's `options`: a matrix with options that
   * do not match it stops at load with file:line:column, before any VM. Build it with
   * `optionsSchema({...})` from harness/suite/options-schema.ts (unknown options are then errors).
   */
  optionsSchema?: object;
  needs?: SuiteNeeds | ((cell: Cell, options: Record<string, unknown>) => SuiteNeeds);
  /** Events this suite schedules (added to the cell's own timeline). */
  events?(cell: Cell, options: Record<string, unknown>): TimelineEvent[];
  /** After boot, before the application starts. */
  before?(context: SuiteContext): Promise<void>;
  /** After each timeline event finished. */
  afterEvent?(context: SuiteContext, record: EventRecord): Promise<void>;
  /** After the timeline; a service is still running. */
  check?(context: SuiteContext): Promise<void>;
  /** After the application stopped. */
  after?(context: SuiteContext): Promise<void>;
}

export function defineSuite(suite: Suite): Suite {
  return suite;
}

export type { SuiteRef };
