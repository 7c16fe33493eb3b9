import junitModule, { type Builder } from 'junit-report-builder';
import type { CellResult, SuiteResult } from '../model/result.js';
import type { RunRecord } from './run-record.js';

/**
 * One <testsuite> per cell (Jenkins and GitLab group by suite: a cell is what a person reruns),
 * one <testcase> per suite of the cell (a cell without suites gets one "application" case).
 * Properties carry the axis values and metrics with their units; events go to system-out.
 */
/** A CommonJS package: Node hands over the builder itself, some bundlers wrap it in `default`. */
const junit = ((junitModule as unknown as { default?: Builder }).default ?? junitModule) as unknown as Builder;

export function buildJUnit(record: RunRecord): string {
  const builder = junit.newBuilder();
  for (const cell of record.cells) {
    const suite = builder.testSuite().name(cell.id).timestamp(cell.startedAt).time(cell.durationMs / 1000);
    for (const [axis, value] of Object.entries(cell.axes)) suite.property(`axis.${axis}`, String(value));
    for (const [name, m] of Object.entries(cell.metrics)) suite.property(`metric.${name}`, `${round(m.value)} ${m.unit}`);
    if (cell.accel) suite.property('accel', cell.accel);
    const cases: Array<SuiteResult | undefined> = cell.suites.length > 0 ? cell.suites : [undefined];
    for (const result of cases) {
      const testCase = suite
        .testCase()
        .className(`bothworlds.${record.matrix.name}.${cell.id}`)
        .name(result ? result.suite : 'application')
        .time((result?.durationMs ?? cell.durationMs) / 1000);
      const outcome = result && cell.outcome !== 'error' && cell.outcome !== 'skipped' && cell.outcome !== 'interrupted' ? effective(result, cell) : cell.outcome;
      const reason = (result?.outcome === outcome ? result.reason : undefined) ?? cell.reason ?? outcome;
      if (outcome === 'failed') testCase.failure(failureMessage(result, reason), 'failed');
      else if (outcome === 'error') testCase.error(reason, cell.error?.code ?? 'error');
      else if (outcome === 'skipped' || outcome === 'interrupted') testCase.skipped();
      if (result) for (const [name, m] of Object.entries(result.metrics)) testCase.property(`metric.${name}`, `${round(m.value)} ${m.unit}`);
      testCase.standardOutput(systemOut(cell, result, outcome === 'skipped' ? reason : undefined));
    }
  }
  return builder.build();
}

/** A suite that passed inside a cell whose application failed still passed; the app case carries the app failure. */
function effective(result: SuiteResult, cell: CellResult): string {
  if (result.outcome === 'passed' && cell.outcome === 'failed' && !cell.suites.some((s) => s.outcome === 'failed')) return 'failed';
  return result.outcome;
}

function failureMessage(result: SuiteResult | undefined, reason: string): string {
  const failed = result?.checks.filter((c) => c.outcome === 'failed') ?? [];
  return failed.length > 0 ? failed.map((c) => `${c.name}: ${c.message}`).join('; ') : reason;
}

function systemOut(cell: CellResult, result: SuiteResult | undefined, skipReason: string | undefined): string {
  const lines: string[] = [];
  if (skipReason) lines.push(`skipped: ${skipReason}`);
  for (const check of result?.checks ?? []) lines.push(`[${check.outcome}] ${check.name}: ${check.message}`);
  for (const event of cell.events) {
    const metrics = Object.entries(event.metrics).map(([k, m]) => `${k}=${round(m.value)}${m.unit}`).join(' ');
    lines.push(`event ${event.label} ${event.outcome} at ${round(event.requestedAtMs)} ms${metrics ? ` ${metrics}` : ''}${event.error ? ` error: ${event.error.message}` : ''}`);
  }
  return lines.join('\n');
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
