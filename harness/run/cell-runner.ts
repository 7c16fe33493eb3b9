import { join } from 'node:path';
import { BothworldsError, categoryOf, describeError, InfrastructureError, UnsupportedError, type ErrorCategory } from '../core/errors.js';
import type { Cell } from '../model/cell.js';
import type { MachineFacts } from '../model/facts.js';
import { metric, type Metrics } from '../model/metrics.js';
import type { Outcome } from '../model/outcome.js';
import { worstOutcome } from '../model/outcome.js';
import type { CellResult, EventRecord, ErrorInfo, SuiteResult } from '../model/result.js';
import type { StartedMachine } from '../machines/machine.js';
import type { ResourceScope } from '../core/scope.js';
import { CellGuard, InterruptedError } from './guard.js';
import { SuiteSession, type LoadedSuite } from '../suite/session.js';
import { coldBootReason, unmetNeeds } from '../suite/needs.js';
import { cellTimeline } from '../suite/timeline.js';
import { runTimeline, unsupportedEvent } from '../inject/timeline.js';
import { runApplication } from './application.js';
import { collectArtifacts, wantsArtifacts } from './artifacts.js';
import { openAppNetwork } from './app-network.js';
import { Transcript, withTranscript } from '../core/transcript.js';
import { attachTranscript, captureLive, wantsEvidence, writeEvidence } from './evidence.js';
import { combineRuns, withQuarantine } from './repeats.js';
import { predictForCell, withSigill } from '../cpu/predict.js';
import type { FaultingInstruction } from '../cpu/sigill.js';

export interface CellRunEnvironment {
  /** The run's scope; each attempt gets a child scope torn down when it ends. */
  scope: ResourceScope;
  /** Aborted on Ctrl+C. */
  signal: AbortSignal;
  kvmUsable: boolean;
  loadSuites(cell: Cell): Promise<LoadedSuite[]>;
  startMachine(cell: Cell, scope: ResourceScope, hints?: { coldBoot?: string }): Promise<StartedMachine>;
  /** Where a cell's artifacts go (`artifacts:`), a folder inside the run folder; none are fetched without it. */
  artifacts?: { runDir: string; dirFor(cell: Cell): string };
}

interface Attempt {
  outcome: Outcome;
  reason?: string;
  error?: ErrorInfo;
  durationMs: number;
  metrics: Metrics;
  accel?: CellResult['accel'];
  facts?: MachineFacts;
  suites: SuiteResult[];
  events: EventRecord[];
  log: CellResult['log'];
  ports?: Record<string, number>;
  artifacts?: CellResult['artifacts'];
  evidence?: CellResult['evidence'];
  sigill?: FaultingInstruction;
}

/**
 * Run one cell `repeat` times (default once), each run retrying `error` outcomes only (each
 * attempt recorded); several runs are combined into one result with their pass rate and metric
 * distributions, `flaky` when some passed and some did not.
 */
export async function runCell(cell: Cell, env: CellRunEnvironment): Promise<CellResult> {
  const repeat = cell.repeat ?? 1;
  if (repeat <= 1) return withQuarantine(cell, await runOnce(cell, env, 'evidence'));
  const runs: CellResult[] = [];
  for (let run = 1; run <= repeat && (run === 1 || !env.signal.aborted); run++) runs.push(await runOnce(cell, env, `evidence/run-${run}`));
  return withQuarantine(cell, combineRuns(cell, runs));
}

async function runOnce(cell: Cell, env: CellRunEnvironment, evidenceFolder: string): Promise<CellResult> {
  const startedAt = new Date().toISOString();
  const started = performance.now();
  const attempts: CellResult['attempts'] = [];
  // Before any machine starts: which flags the app needs that this cell's CPU lacks (issue 18).
  const prediction = await predictForCell(cell, env.kvmUsable);
  let last: Attempt;
  for (let attempt = 0; ; attempt++) {
    // QMP and agent clients the attempt connects record into its transcript (evidence:).
    const transcript = env.artifacts && cell.evidence !== 'never' ? new Transcript() : undefined;
    last = await withTranscript(transcript, () => runAttempt(cell, env, transcript, evidenceFolder));
    attempts.push({ outcome: last.outcome, ...(last.reason ? { reason: last.reason } : {}), durationMs: last.durationMs });
    if (last.outcome !== 'error' || attempt >= cell.retries || env.signal.aborted) break;
  }
  return {
    id: cell.id,
    axes: cell.axes,
    backend: cell.backend,
    outcome: last.outcome,
    ...(last.reason ? { reason: last.reason } : {}),
    ...(last.error ? { error: last.error } : {}),
    attempts,
    startedAt,
    durationMs: performance.now() - started,
    metrics: last.metrics,
    ...(last.accel ? { accel: last.accel } : {}),
    ...(last.facts ? { facts: last.facts } : {}),
    ...(last.ports ? { ports: last.ports } : {}),
    ...(last.artifacts ? { artifacts: last.artifacts } : {}),
    ...(last.evidence ? { evidence: last.evidence } : {}),
    ...(prediction || last.sigill ? { isa: withSigill(prediction, last.sigill)! } : {}),
    suites: last.suites,
    events: last.events,
    log: last.log,
  };
}

async function runAttempt(cell: Cell, env: CellRunEnvironment, transcript: Transcript | undefined, evidenceFolder: string): Promise<Attempt> {
  const started = performance.now();
  const startedAt = new Date();
  let live: Awaited<ReturnType<typeof captureLive>> = {};
  const scope = env.scope.child(cell.id);
  const guard = new CellGuard(cell.timeoutMs, `cell ${cell.id} to finish (its timeout)`, env.signal);
  const state: Partial<Attempt> & { metrics: Metrics; events: EventRecord[] } = { metrics: {}, events: [] };
  let machine: StartedMachine | undefined;
  let session: SuiteSession | undefined;
  let appFailure: string | undefined;
  let failure: unknown;
  try {
    const suites = await env.loadSuites(cell);
    const unmet = unmetNeeds(cell, suites, { kvmUsable: env.kvmUsable });
    if (unmet) throw new UnsupportedError('SUITE_NEEDS', unmet);
    const coldBoot = coldBootReason(cell, suites);
    machine = await guard.run(env.startMachine(cell, scope, coldBoot ? { coldBoot } : {}));
    guard.watch(machine.lost);
    Object.assign(state.metrics, machine.startMetrics);
    if (transcript) {
      transcript.setOrigin(machine.origin);
      attachTranscript(machine, transcript);
    }
    state.accel = machine.accel;
    const facts = await guard.run(machine.facts());
    state.facts = facts;
    const controlsUnmet = unmetNeeds(cell, suites, { kvmUsable: env.kvmUsable, machine });
    if (controlsUnmet) throw new UnsupportedError('SUITE_NEEDS', controlsUnmet);
    const timeline = cellTimeline(cell, suites);
    const impossible = unsupportedEvent(machine, timeline);
    if (impossible) throw new UnsupportedError('EVENT_UNSUPPORTED', `event ${impossible.event} cannot run on ${cell.backend}: ${impossible.reason}`);
    // The app's guest ports on loopback (app.ports), before any suite or health check needs them.
    const network = await guard.run(openAppNetwork(cell, machine, scope));
    if (network?.open) state.ports = network.open.ports;

    session = new SuiteSession(suites, cell, machine, facts, env.signal);
    await guard.run(session.run('before'));
    const activeSession = session;
    const activeMachine = machine;
    appFailure = await guard.run(
      runApplication(cell, activeMachine, {
        onStarted: (app) => (activeSession.app = app),
        metrics: state.metrics,
        ...(network ? { network } : {}),
        onSigill: (explanation) => {
          if (explanation.fault) state.sigill = explanation.fault;
        },
        duringApp: async (appStartedAt, appEnded) => {
          await runTimeline({
            machine: activeMachine,
            events: timeline,
            appStartedAt,
            signal: env.signal,
            triggerTimeoutMs: cell.app.timeoutMs,
            appEnded,
            onRecord: async (record) => {
              state.events.push(record);
              await activeSession.afterEvent(record);
            },
          });
          const broken = state.events.find((r) => r.outcome === 'error');
          if (broken) {
            throw new InfrastructureError('EVENT_FAILED', `event ${broken.label} failed: ${broken.error?.message ?? 'unknown error'}`);
          }
          await activeSession.run('check');
        },
      }),
    );
    await guard.run(session.run('after'));
  } catch (error) {
    failure = error;
  } finally {
    guard.dispose();
  }
  state.log = machine ? [...machine.output.lines] : [];
  // Artifacts come off the machine before it is torn down, judged by the verdict so far.
  if (machine && env.artifacts) {
    const sofar = session?.results() ?? [];
    const provisional = classify(failure, appFailure, sofar, [], notDone(state.events, sofar)).outcome;
    if (wantsArtifacts(cell.artifacts, provisional)) state.artifacts = await collectArtifacts(machine, cell.artifacts, env.artifacts.dirFor(cell), env.artifacts.runDir);
  }
  if (machine && transcript) live = await captureLive(machine);
  const teardownErrors = await scope.dispose();
  const suites = session?.results() ?? [];
  const { outcome, reason, error } = classify(failure, appFailure, suites, teardownErrors, notDone(state.events, suites));
  state.metrics.cell_ms = metric(performance.now() - started, 'ms');
  transcript?.close();
  if (transcript && env.artifacts && wantsEvidence(cell.evidence, outcome)) {
    const evidence = await writeEvidence({ dir: join(env.artifacts.dirFor(cell), '..', evidenceFolder), runDir: env.artifacts.runDir, transcript, live, startedAt });
    if (evidence.length > 0) state.evidence = evidence;
  }
  return {
    outcome,
    ...(reason ? { reason } : {}),
    ...(error ? { error } : {}),
    durationMs: performance.now() - started,
    metrics: state.metrics,
    ...(state.accel ? { accel: state.accel } : {}),
    ...(state.facts ? { facts: state.facts } : {}),
    ...(state.ports ? { ports: state.ports } : {}),
    ...(state.artifacts ? { artifacts: state.artifacts } : {}),
    ...(state.evidence ? { evidence: state.evidence } : {}),
    ...(state.sigill ? { sigill: state.sigill } : {}),
    suites,
    events: state.events,
    log: state.log,
  };
}

function classify(
  failure: unknown,
  appFailure: string | undefined,
  suites: SuiteResult[],
  teardownErrors: unknown[],
  undone: string[],
): { outcome: Outcome; reason?: string; error?: ErrorInfo } {
  // What was asked and not done is said with every verdict, never dropped for a louder one.
  const alsoUndone = undone.length > 0 ? `; also not done: ${undone.join('; ')}` : '';
  if (failure instanceof InterruptedError) return { outcome: 'interrupted', reason: failure.message };
  if (failure !== undefined) {
    const category: ErrorCategory = categoryOf(failure);
    const outcome: Outcome = category === 'unsupported' ? 'skipped' : category === 'application' ? 'failed' : 'error';
    return { outcome, reason: `${describeError(failure)}${outcome === 'skipped' ? '' : alsoUndone}`, error: errorInfo(failure) };
  }
  const broken = suites.find((s) => s.outcome === 'error');
  if (broken) return { outcome: 'error', reason: `suite ${broken.suite}: ${broken.reason ?? 'error'}${alsoUndone}` };
  const failedSuites = suites.filter((s) => s.outcome === 'failed');
  if (appFailure || failedSuites.length > 0) {
    const reasons = [appFailure, ...failedSuites.map((s) => `${s.suite}: ${s.reason ?? 'failed'}`)].filter(Boolean);
    return { outcome: 'failed', reason: `${reasons.join('; ')}${alsoUndone}` };
  }
  if (teardownErrors.length > 0) {
    return { outcome: 'error', reason: `teardown failed: ${describeError(teardownErrors[0])}${alsoUndone}`, error: errorInfo(teardownErrors[0]) };
  }
  if (undone.length > 0) return { outcome: 'incomplete', reason: `not everything asked was done: ${undone.join('; ')}` };
  return { outcome: 'passed' };
}

/**
 * Everything the cell asked for that did not happen: events skipped (their trigger never came, the
 * application ended first) unless `optional`, suites that did not run, checks that could not be
 * evaluated. Any of them keeps a cell from `passed`.
 */
function notDone(events: EventRecord[], suites: SuiteResult[]): string[] {
  const undone: string[] = [];
  for (const event of events) {
    if (event.outcome !== 'skipped' || event.optional) continue;
    undone.push(`event ${event.label}${event.addedBy ? ` (added by suite ${event.addedBy})` : ''} did not run: ${event.reason ?? 'no reason recorded'}`);
  }
  for (const suite of suites) {
    if (suite.outcome === 'skipped') undone.push(`suite ${suite.suite} did not run: ${suite.reason ?? 'no reason recorded'}`);
    for (const check of suite.checks) if (check.outcome === 'skipped') undone.push(`${suite.suite} could not check "${check.name}": ${check.message}`);
  }
  return undone;
}

function errorInfo(error: unknown): ErrorInfo {
  if (error instanceof BothworldsError) return { code: error.code, category: error.category, message: describeError(error) };
  return { code: 'UNEXPECTED', category: 'infrastructure', message: describeError(error) };
}

