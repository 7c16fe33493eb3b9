import { resolve } from 'node:path';
import junitModule, { type Builder, type TestCase } from 'junit-report-builder';
import type { Outcome } from '../model/outcome.js';
import type { CellResult, SuiteResult } from '../model/result.js';
import type { RunInfo, RunRecord } from './run-record.js';
import { splitEveryCdataEnd, xmlSafe, xmlText } from './xml-text.js';
import { qualificationLines } from './qualification-text.js';

/** A CommonJS package: Node hands over the builder itself, some bundlers wrap it in `default`. */
const junit = ((junitModule as unknown as { default?: Builder }).default ?? junitModule) as unknown as Builder;

/**
 * JUnit XML for Jenkins and GitLab.
 *
 * One <testsuite> per cell: the axis values and the cell's metrics are properties of the cell, and
 * <properties> is only standard on <testsuite>. Both CIs group what they display by `classname`
 * (Jenkins: package.class; GitLab: the "suite" column), so classname is
 * `bothworlds.<matrix>.<cell id>` and the testcase name repeats the cell id before the suite:
 * GitLab lists test names without their suite, and "qemu-nehalem-…: hotplug-awareness" is what a
 * person needs to rerun it. A cell without suites gets one "application" case.
 */
export function buildJUnit(unsafe: RunRecord, options: { runDir?: string } = {}): string {
  // One small builder per suite, its XML kept as text: a builder's DOM for 10,000 cells is ~150 MB.
  const document = new SuitesText();
  const parts: string[] = [];
  const qualification = junitQualification(unsafe);
  if (qualification) parts.push(document.add(qualification));
  for (const cell of unsafe.cells) parts.push(document.add(junitCell(cell, unsafe.matrix.name, options)));
  return parts.length === 0 ? `${document.head()}/>` : `${document.head()}>\n${parts.join('')}</testsuites>`;
}

type SuiteBuilder = ReturnType<Builder['newBuilder']>;

/** The policy's verdict as its own testcase, first: a CI that gates on JUnit gates on it. */
export function junitQualification(unsafe: Pick<RunInfo, 'qualification' | 'matrix' | 'startedAt'>): SuiteBuilder | undefined {
  if (!unsafe.qualification) return undefined;
  const matrixName = xmlSafe(unsafe.matrix.name);
  const qualification = xmlSafe(unsafe.qualification);
  const builder = junit.newBuilder();
  const [head, ...rest] = qualificationLines(qualification);
  const testCase = builder.testSuite().name('qualification').timestamp(xmlSafe(unsafe.startedAt)).testCase().className(`bothworlds.${dotless(matrixName)}.qualification`).name('release qualification');
  if (qualification.verdict !== 'qualified') testCase.failure(qualification.reasons.map((r) => r.message).join('; '), 'not qualified');
  const out = xmlText([head!, ...rest].join('\n'));
  testCase.standardOutput(out);
  splitEveryCdataEnd(testCase, () => [out]);
  return builder;
}

/** One cell's <testsuite>, in a builder of its own. */
export function junitCell(unsafeCell: CellResult, unsafeMatrixName: string, options: { runDir?: string } = {}): SuiteBuilder {
  // Application output reaches every field: characters XML 1.0 forbids are made visible first.
  const matrixName = xmlSafe(unsafeMatrixName);
  const className = (cell: CellResult) => ['bothworlds', dotless(matrixName), dotless(cell.id)].join('.');
  const cell = xmlSafe(unsafeCell);
  const builder = junit.newBuilder();
  const suite = builder.testSuite().name(cell.id).timestamp(cell.startedAt).time(seconds(cell.durationMs));
  suite.property('backend', cell.backend);
  if (cell.accel) suite.property('accel', cell.accel);
  for (const [axis, value] of Object.entries(cell.axes)) suite.property(`axis.${axis}`, String(value));
  for (const [name, m] of Object.entries(cell.metrics)) suite.property(`metric.${name}`, `${round(m.value)} ${m.unit}`);
  if (cell.repeats) suite.property('pass-rate', `${cell.repeats.passed}/${cell.repeats.total}`);
  if (cell.attempts.length > 1) suite.property('attempts', cell.attempts.map((a) => a.outcome).join(' → '));
  // Properties on <testcase> are not in the junit-4 schema that Jenkins' xUnit plugin validates
  // against, so a suite's metrics are properties of the cell's <testsuite>, named by suite.
  for (const result of cell.suites) for (const [name, m] of Object.entries(result.metrics)) suite.property(`metric.${result.suite}.${name}`, `${round(m.value)} ${m.unit}`);
  const results: Array<SuiteResult | undefined> = cell.suites.length > 0 ? cell.suites : [undefined];
  // An error cell whose suites all passed still says, in a case of its own, that the lab failed.
  const infrastructure = cell.outcome === 'error' && cell.suites.length > 0 && cell.suites.every((s) => s.outcome === 'passed');
  const times = caseTimesMs(cell, infrastructure);
  const tail = outputTail(cell);
  results.forEach((result, i) => {
    const testCase = suite
      .testCase()
      .className(className(cell))
      .name(`${cell.id}: ${result ? result.suite : 'application'}`)
      .time(seconds(times[i]!));
    const outcome = caseOutcome(cell, result);
    const reason = (result?.outcome === outcome ? result.reason : undefined) ?? cell.reason ?? outcome;
    if (outcome === 'failed') withBody(testCase.failure(failureMessage(result, reason), 'failed'), 'failure', tail);
    else if (outcome === 'flaky') withBody(testCase.failure(cell.reason ?? 'flaky', 'flaky'), 'failure', tail);
    else if (outcome === 'error') testCase.error(reason, cell.error?.code ?? 'error', errorContent(cell));
    // Not everything asked was done: never a pass, and not the application's failure either.
    else if (outcome === 'incomplete') testCase.error(reason, 'incomplete', errorContent(cell));
    else if (outcome === 'skipped' || outcome === 'interrupted') skipWithMessage(testCase, outcome === 'interrupted' ? `interrupted: ${reason}` : reason);
    const out = xmlText(systemOut(cell, result, options.runDir));
    testCase.standardOutput(out);
    splitEveryCdataEnd(testCase, () => [out, errorContent(cell)]);
  });
  if (infrastructure) {
    const testCase = suite.testCase().className(className(cell)).name(`${cell.id}: infrastructure`).time(seconds(times[results.length]!));
    testCase.error(cell.reason ?? 'error', cell.error?.code ?? 'error', errorContent(cell));
    splitEveryCdataEnd(testCase, () => [errorContent(cell)]);
  }
  return builder;
}

/** The <testsuite> elements of single-suite builders under one <testsuites> with their totals. */
export class SuitesText {
  private readonly totals = { tests: 0, failures: 0, errors: 0 };

  /** The builder's <testsuite> text, counted into the totals. */
  add(builder: SuiteBuilder): string {
    const xml = builder.build();
    const root = /<testsuites tests="(\d+)" failures="(\d+)" errors="(\d+)"[^>]*>\n/.exec(xml);
    if (!root) throw new Error(`junit-report-builder wrote an unexpected root: ${xml.slice(0, 200)}`);
    this.totals.tests += Number(root[1]);
    this.totals.failures += Number(root[2]);
    this.totals.errors += Number(root[3]);
    return xml.slice(root.index + root[0].length, xml.lastIndexOf('</testsuites>'));
  }

  /**
   * The document up to the root's attributes, unclosed: `/>` follows when there is no suite, else
   * `>\n`, the suites and `</testsuites>`. junit-10.xsd (Jenkins xUnit) allows name, time, tests,
   * failures and errors on <testsuites>, not skipped.
   */
  head(): string {
    const { tests, failures, errors } = this.totals;
    return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites tests="${tests}" failures="${failures}" errors="${errors}"`;
  }
}

/**
 * Case times that add up to no more than the cell's: suites run side by side, each timed from its
 * own start, so their durations overlap; when they add up to more than the cell, they share it in
 * proportion. The infrastructure case of an error cell gets what is left.
 */
function caseTimesMs(cell: CellResult, infrastructure: boolean): number[] {
  if (cell.suites.length === 0) return [cell.durationMs];
  const sum = cell.suites.reduce((n, s) => n + s.durationMs, 0);
  const scale = sum > cell.durationMs ? cell.durationMs / sum : 1;
  const times = cell.suites.map((s) => s.durationMs * scale);
  if (infrastructure) times.push(Math.max(0, cell.durationMs - times.reduce((n, t) => n + t, 0)));
  return times;
}

/** Lines of the application's output and of the console put in a failure's body. */
const TAIL_LINES = 20;

/** What a person reads first under a red test in Jenkins or GitLab: the last lines the app and the console printed. */
function outputTail(cell: CellResult): string {
  const tail = (source: string) => cell.log.filter((l) => l.source === source).slice(-TAIL_LINES).map((l) => l.text);
  const app = tail('app');
  const console = tail('console');
  return [
    ...(app.length ? [`--- application output (last ${app.length} lines) ---`, ...app] : ['--- no application output ---']),
    ...(console.length ? [`--- console (last ${console.length} lines) ---`, ...console] : []),
  ].join('\n');
}

/** junit-report-builder's failure() takes no body: add it as text (escaped, so no CDATA to break out of). */
function withBody(testCase: TestCase, element: 'failure', body: string): void {
  const build = testCase.build.bind(testCase);
  testCase.build = (parent) => {
    const built = build(parent);
    const child = built.children.find((c) => (c as { name?: string }).name === element) as { txt(text: string): unknown } | undefined;
    child?.txt(body);
    return built;
  };
}

/**
 * A cell-level error, skip or interruption applies to every case of the cell. Otherwise each suite
 * has its own outcome, except that an application failure with no failing suite (or events not
 * done with no incomplete suite) is charged to every case, so the cell's verdict is never lost.
 */
function caseOutcome(cell: CellResult, result: SuiteResult | undefined): Outcome {
  // Flaky is the whole cell's verdict over its runs: every case fails with it (CI must not read it as a pass).
  if (!result || cell.outcome === 'skipped' || cell.outcome === 'interrupted' || cell.outcome === 'flaky') return cell.outcome;
  // A suite that passed before the lab failed did pass; the others could not finish.
  if (cell.outcome === 'error') return result.outcome === 'passed' ? 'passed' : 'error';
  if (result.outcome === 'passed' && cell.outcome === 'failed' && !cell.suites.some((s) => s.outcome === 'failed')) return 'failed';
  // Events not done are the cell's, not a suite's: charged to every case unless a suite is incomplete itself.
  if (result.outcome === 'passed' && cell.outcome === 'incomplete' && !cell.suites.some((s) => s.outcome === 'incomplete')) return 'incomplete';
  return result.outcome;
}

function failureMessage(result: SuiteResult | undefined, reason: string): string {
  const failed = result?.checks.filter((c) => c.outcome === 'failed') ?? [];
  return failed.length > 0 ? failed.map((c) => `${c.name}: ${c.message}`).join('; ') : reason;
}

/** The cause of an infrastructure error: code, category and message, and each attempt's. */
function errorContent(cell: CellResult): string {
  const lines: string[] = [];
  if (cell.error) lines.push(`${cell.error.code} (${cell.error.category}): ${cell.error.message}`);
  cell.attempts.forEach((a, i) => lines.push(`attempt ${i + 1}: ${a.outcome}${a.reason ? ` — ${a.reason}` : ''} after ${round(a.durationMs / 1000)} s`));
  return lines.join('\n');
}

/** junit-report-builder writes a bare <skipped/>; Jenkins and GitLab show its `message` attribute. */
function skipWithMessage(testCase: TestCase, message: string): void {
  testCase.skipped();
  const build = testCase.build.bind(testCase);
  testCase.build = (parent) => {
    const element = build(parent);
    const skipped = element.children.find((child) => (child as { name?: string }).name === 'skipped') as { att(name: string, value: string): unknown } | undefined;
    skipped?.att('message', message);
    return element;
  };
}

function systemOut(cell: CellResult, result: SuiteResult | undefined, runDir: string | undefined): string {
  const lines: string[] = [];
  if (cell.reason) lines.push(`${cell.outcome}: ${cell.reason}`);
  for (const check of result?.checks ?? []) lines.push(`[${check.outcome}] ${check.name}: ${check.message}`);
  for (const [name, m] of Object.entries(result?.metrics ?? {})) lines.push(`metric ${name} = ${round(m.value)} ${m.unit}`);
  for (const event of cell.events) {
    const metrics = Object.entries(event.metrics).map(([k, m]) => `${k}=${round(m.value)} ${m.unit}`).join(', ');
    const times = [`requested ${round(event.requestedAtMs)} ms`, event.acknowledgedAtMs !== undefined ? `acknowledged ${round(event.acknowledgedAtMs)} ms` : '', event.observedAtMs !== undefined ? `observed ${round(event.observedAtMs)} ms` : ''].filter(Boolean).join(', ');
    const why = event.error ? ` — ${event.error.code}: ${event.error.message}` : event.reason ? ` — ${event.reason}` : '';
    const tags = [event.addedBy ? `added by suite ${event.addedBy}` : '', event.optional ? 'optional' : ''].filter(Boolean).join(', ');
    lines.push(`event ${event.label}${tags ? ` [${tags}]` : ''}: ${event.outcome} (${times})${metrics ? ` ${metrics}` : ''}${why}`);
  }
  // Jenkins' attachments plugin picks up [[ATTACHMENT|/absolute/path]] lines in system-out.
  for (const artifact of cell.artifacts ?? []) {
    if (artifact.path && runDir) lines.push(`[[ATTACHMENT|${resolve(runDir, artifact.path)}]]`);
    else if (artifact.error) lines.push(`artifact ${artifact.source}: ${artifact.error}`);
  }
  return lines.join('\n');
}

/** Whole milliseconds: a tiny duration must not print as 1e-7, which junit-10.xsd's time pattern refuses. */
function seconds(ms: number): number {
  return Math.round(ms) / 1000;
}

function dotless(text: string): string {
  return text.replace(/\./g, '_');
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
