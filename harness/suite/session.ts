import { describeError, categoryOf } from '../core/errors.js';
import type { Cell } from '../model/cell.js';
import type { MachineFacts } from '../model/facts.js';
import { metric, type Metrics } from '../model/metrics.js';
import { worstOutcome, type Outcome } from '../model/outcome.js';
import type { CheckResult, EventRecord, SuiteResult } from '../model/result.js';
import type { BackgroundProcess, StartedMachine } from '../machines/machine.js';
import type { Suite, SuiteContext } from './api.js';

export interface LoadedSuite {
  suite: Suite;
  options: Record<string, unknown>;
}

type Hook = 'before' | 'check' | 'after';

/**
 * The suites of one cell: one context each, hooks run in order, and each suite's checks, metrics
 * and data collected into its SuiteResult. A hook that throws makes only its own suite an
 * `error` (or `skipped`/`failed` by the error's category), never the others.
 */
export class SuiteSession {
  private readonly states: Array<{
    loaded: LoadedSuite;
    context: SuiteContext;
    checks: CheckResult[];
    metrics: Metrics;
    data: Record<string, unknown>;
    failure?: { outcome: Outcome; reason: string };
    started: number;
  }>;
  private appProcess: BackgroundProcess | undefined;
  private readonly eventRecords: EventRecord[] = [];

  constructor(
    loaded: LoadedSuite[],
    cell: Cell,
    machine: StartedMachine,
    facts: MachineFacts,
    signal: AbortSignal,
  ) {
    this.states = loaded.map((item) => {
      const checks: CheckResult[] = [];
      const metrics: Metrics = {};
      const data: Record<string, unknown> = {};
      const session = this;
      const context: SuiteContext = {
        cell,
        machine,
        facts,
        signal,
        options: item.options,
        get app() {
          return session.appProcess;
        },
        get events() {
          return session.eventRecords;
        },
        check(name, passed, message, checkMetrics) {
          const result: CheckResult = { name, outcome: passed ? 'passed' : 'failed', message, ...(checkMetrics ? { metrics: checkMetrics } : {}) };
          checks.push(result);
          return result;
        },
        skipCheck(name, reason) {
          const result: CheckResult = { name, outcome: 'skipped', message: reason };
          checks.push(result);
          return result;
        },
        metric(name, value, unit) {
          return (metrics[name] = metric(value, unit));
        },
        data(key, value) {
          data[key] = value;
        },
        log(text) {
          machine.output.push('harness', `[${item.suite.name}] ${text}`);
        },
      };
      return { loaded: item, context, checks, metrics, data, started: performance.now() };
    });
  }

  set app(process: BackgroundProcess | undefined) {
    this.appProcess = process;
  }

  async run(hook: Hook): Promise<void> {
    for (const state of this.states) {
      if (state.failure) continue;
      const fn = state.loaded.suite[hook];
      if (!fn) continue;
      try {
        await fn.call(state.loaded.suite, state.context);
      } catch (error) {
        state.failure = { outcome: outcomeOfError(error), reason: `${hook}: ${describeError(error)}` };
      }
    }
  }

  async afterEvent(record: EventRecord): Promise<void> {
    this.eventRecords.push(record);
    for (const state of this.states) {
      if (state.failure || !state.loaded.suite.afterEvent) continue;
      try {
        await state.loaded.suite.afterEvent(state.context, record);
      } catch (error) {
        state.failure = { outcome: outcomeOfError(error), reason: `afterEvent(${record.label}): ${describeError(error)}` };
      }
    }
  }

  results(): SuiteResult[] {
    return this.states.map((state) => {
      // A check that could not be evaluated leaves the suite incomplete, never passed.
      const outcome = state.failure
        ? state.failure.outcome
        : worstOutcome(state.checks.map((c) => (c.outcome === 'skipped' ? 'incomplete' : c.outcome)));
      return {
        suite: state.loaded.suite.name,
        outcome,
        ...(state.failure ? { reason: state.failure.reason } : firstFailure(state.checks)),
        checks: state.checks,
        metrics: state.metrics,
        ...(Object.keys(state.data).length > 0 ? { data: state.data } : {}),
        durationMs: performance.now() - state.started,
      };
    });
  }
}

function firstFailure(checks: CheckResult[]): { reason?: string } {
  const failed = checks.find((c) => c.outcome === 'failed') ?? checks.find((c) => c.outcome === 'skipped');
  if (!failed) return {};
  return { reason: `${failed.outcome === 'skipped' ? `could not check "${failed.name}"` : failed.name}: ${failed.message}` };
}

function outcomeOfError(error: unknown): Outcome {
  switch (categoryOf(error)) {
    case 'application':
      return 'failed';
    case 'unsupported':
      return 'skipped';
    default:
      return 'error';
  }
}
