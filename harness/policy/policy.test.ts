import { describe, expect, it } from 'vitest';
import type { CellResult } from '../model/result.js';
import type { RunRecord } from '../report/run-record.js';
import { evaluatePolicy } from './evaluate.js';
import { parseLimit, statistic } from './limits.js';
import { parsePolicy, PolicyError } from './load-policy.js';
import type { PlannedCell } from './policy.js';

const SOURCES = ['cell', 'migrate', 'cpu-plug', 'hotplug-awareness'];
const plan: PlannedCell[] = ['Nehalem', 'SandyBridge', 'max'].flatMap((cpu) =>
  (['none', 'migrate'] as const).map((events) => ({ id: `${cpu}-${events}`.toLowerCase(), axes: { cpu, vcpus: 1, events } })),
);

function parse(text: string) {
  return parsePolicy({ path: '/m/policy.yaml', text, inline: false }, plan, SOURCES);
}

function issuesOf(text: string): string[] {
  try {
    parse(text);
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyError);
    return (error as PolicyError).issues.map((i) => `${i.line}:${i.column} ${i.message}`);
  }
  throw new Error('the policy was accepted');
}

function cell(id: string, outcome: CellResult['outcome'], extra: Partial<CellResult> = {}): CellResult {
  const axes = plan.find((c) => c.id === id)!.axes;
  return { id, axes, backend: 'qemu', outcome, attempts: [], startedAt: '2026-11-28T10:00:00Z', durationMs: 1000, metrics: {}, suites: [], events: [], log: [], ...extra };
}

function migrateEvent(downtime: number) {
  return { kind: 'migrate', label: 'migrate', outcome: 'ok' as const, requestedAtMs: 100, observedAtMs: 400, durationMs: 300, metrics: { downtime_heartbeat_ms: { value: downtime, unit: 'ms' as const } } };
}

function record(cells: CellResult[]): RunRecord {
  return {
    schema: 'bothworlds/run@1',
    runId: 'r',
    startedAt: '2026-11-28T10:00:00Z',
    finishedAt: '2026-11-28T10:05:00Z',
    matrix: { name: 'm', path: '/m/matrix.yaml', hash: 'h' },
    environment: {} as RunRecord['environment'],
    cellIds: plan.map((c) => c.id),
    interrupted: false,
    cells,
  };
}

const allPassed = () => plan.map((c) => cell(c.id, 'passed', c.axes.events === 'migrate' ? { events: [migrateEvent(40)] } : {}));

describe('policy validation', () => {
  it('names an unknown axis, a value no cell has and a selector matching no cell at file:line:column', () => {
    const issues = issuesOf(['required:', '  - {cpus: Nehalem}', '  - {cpu: Skylake}', "  - 'cpu == \"max\" and events == \"pause\"'", ''].join('\n'));
    expect(issues).toEqual([
      expect.stringMatching(/^2:6 "cpus" is no axis of the matrix \(did you mean "cpu"\?\)/),
      expect.stringMatching(/^3:11 no cell of the matrix has cpu "Skylake"; its values: Nehalem, SandyBridge, max/),
      expect.stringMatching(/^4:5 required\[2\] .* matches none of the matrix's 6 cell\(s\)/),
    ]);
  });

  it('checks expressions, acceptances and limits', () => {
    const issues = issuesOf(
      [
        'required: ["vcpu == 1"]',
        'accepted_failures:',
        '  - cells: {cpu: Nehalem}',
        '    reason: "(unclosed"',
        '    tracking: not-a-url',
        '    expires: 2027-13-01',
        'limits:',
        '  - "migration.downtime_heartbeat_ms p95 <= 300ms"',
        '  - "migrat.downtime_heartbeat_ms <= 300"',
        '  - "cpu-plug latency <= fast"',
        'repats: []',
        '',
      ].join('\n'),
    );
    expect(issues.join('\n')).toMatch(/^1:12 required\[0\] names "vcpu", which is no axis of the matrix \(did you mean "vcpus"\?\)/m);
    expect(issues.join('\n')).toMatch(/^4:13 the reason is not a regular expression/m);
    expect(issues.join('\n')).toMatch(/^5:15 accepted_failures\[0\]\.tracking has an invalid value: an http\(s\) URL/m);
    expect(issues.join('\n')).toMatch(/^6:14 accepted_failures\[0\]\.expires has an invalid value: a date YYYY-MM-DD/m);
    // `migration` is read as the event kind `migrate`: no issue on line 8.
    expect(issues.join('\n')).not.toMatch(/^8:/m);
    expect(issues.join('\n')).toMatch(/^9:5 .*"migrat" is not `cell`, a suite of the matrix or an event kind \(did you mean "migrate"\?\)/m);
    expect(issues.join('\n')).toMatch(/^10:5 .*"fast" is not a number/m);
    expect(issues.join('\n')).toMatch(/^11:1 unknown key "repats" in the top level \(did you mean "repeats"\?\)/m);
  });

  it('reads limits: metric, statistic, operator, value in the unit of its kind', () => {
    expect(parseLimit('migration.downtime_heartbeat_ms p95 <= 300', SOURCES)).toMatchObject({ source: 'migrate', name: 'downtime_heartbeat_ms', stat: 'p95', op: '<=', value: 300, dimension: 'plain' });
    expect(parseLimit('cpu-plug latency <= 1s', SOURCES)).toMatchObject({ source: 'cpu-plug', name: 'latency', stat: 'max', value: 1000, dimension: 'time' });
    expect(statistic('p95', Array.from({ length: 20 }, (_, i) => i + 1))).toBe(19);
    expect(statistic('p50', [5, 1, 3])).toBe(3);
  });
});

describe('the verdict', () => {
  const policyText = [
    'required: [{events: migrate}]',
    'accepted_failures:',
    '  - cells: {cpu: Nehalem, events: migrate}',
    '    reason: "kept \\\\d+ worker threads"',
    '    tracking: https://tracker.example/7',
    '    expires: "2026-12-31"',
    'limits: ["migrate.downtime_heartbeat_ms p95 <= 300ms"]',
    '',
  ].join('\n');

  it('is qualified when the only failure is accepted and every limit holds, and says so', () => {
    const cells = allPassed().map((c) => (c.id === 'nehalem-migrate' ? { ...c, outcome: 'failed' as const, reason: 'app kept 1 worker threads after vCPUs went 1→2' } : c));
    const q = evaluatePolicy(parse(policyText), record(cells), plan);
    expect(q.verdict).toBe('qualified');
    expect(q.reasons).toEqual([]);
    expect(q.notes.join('\n')).toMatch(/nehalem-migrate failed as accepted \(#1, until 2026-12-31, https:\/\/tracker.example\/7\)/);
    expect(q.notes.join('\n')).toMatch(/holds: p95 of 3 sample\(s\) = 40 ms/);
  });

  it('lists every reason: not run, not passed, incomplete, another reason, a pass under an acceptance, a broken limit', () => {
    const cells = allPassed()
      .filter((c) => c.id !== 'max-migrate')
      .map((c) => (c.id === 'sandybridge-migrate' ? { ...c, outcome: 'incomplete' as const, reason: 'migrate never triggered', events: [migrateEvent(900)] } : c));
    const q = evaluatePolicy(parse(policyText), record(cells), plan);
    expect(q.verdict).toBe('not qualified');
    expect(q.reasons.map((r) => r.kind).sort()).toEqual(['acceptance-now-passes', 'metric-over-limit', 'required-not-passed', 'required-not-run']);
    expect(q.reasons.find((r) => r.kind === 'acceptance-now-passes')!.message).toMatch(/nehalem-migrate passed, but accepted failure #1 .* the acceptance can be removed/);
    expect(q.reasons.find((r) => r.kind === 'metric-over-limit')!.message).toMatch(/p95 of 2 sample\(s\) = 900 ms/);

    const other = allPassed().map((c) => (c.id === 'nehalem-migrate' ? { ...c, outcome: 'failed' as const, reason: 'segfault' } : c));
    expect(evaluatePolicy(parse(policyText), record(other), plan).reasons.map((r) => r.kind)).toEqual(['acceptance-reason-differs']);
  });

  it('enforces repeats: a selected cell run fewer times than min is a reason; enough runs is a note', () => {
    const text = 'repeats:\n  - cells: {events: migrate}\n    min: 3\n';
    const repeated = (c: CellResult, total: number): CellResult => ({ ...c, repeats: { runs: [], passed: total, total, passRate: 1, metrics: {}, detailsFrom: 1 } });
    const short = allPassed().map((c) => (c.axes.events === 'migrate' ? repeated(c, c.id === 'max-migrate' ? 2 : 3) : c));
    const q = evaluatePolicy(parse(text), record(short), plan);
    expect(q.verdict).toBe('not qualified');
    expect(q.reasons).toEqual([{ kind: 'repeats-too-few', cell: 'max-migrate', message: 'max-migrate ran 2 time(s); the policy requires at least 3 runs of events migrate: set `repeat: 3` in the matrix or run with --repeat 3' }]);
    // A cell not repeated at all ran once.
    expect(evaluatePolicy(parse(text), record(allPassed()), plan).reasons.map((r) => r.message)).toContain('nehalem-migrate ran 1 time(s); the policy requires at least 3 runs of events migrate: set `repeat: 3` in the matrix or run with --repeat 3');
    const enough = evaluatePolicy(parse(text), record(allPassed().map((c) => (c.axes.events === 'migrate' ? repeated(c, 4) : c))), plan);
    expect(enough.verdict).toBe('qualified');
    expect(enough.notes).toContain('repeats: 3 cell(s) of events migrate ran at least 3 times (fewest 4)');
  });

  it('accepts a flaky cell only with outcomes: [flaky], and never lets a quarantine qualify a release', () => {
    const flaky = allPassed().map((c) => (c.id === 'nehalem-migrate' ? { ...c, outcome: 'flaky' as const, reason: 'passed 2 of 3 runs (67%); run 2 failed: kept 1 worker threads' } : c));
    expect(evaluatePolicy(parse(policyText), record(flaky), plan).reasons.map((r) => r.kind)).toEqual(['required-not-passed']);
    const accepting = policyText.replace('    expires: "2026-12-31"', '    expires: "2026-12-31"\n    outcomes: [failed, flaky]');
    expect(evaluatePolicy(parse(accepting), record(flaky), plan).verdict).toBe('qualified');

    const quarantined = allPassed().map((c) => (c.id === 'max-migrate' ? { ...c, outcome: 'failed' as const, reason: 'segfault', quarantine: { cells: 'max-*', reason: 'issue 42', expires: '2027-01-31', expired: false } } : c));
    const q = evaluatePolicy(parse(policyText), record(quarantined), plan);
    expect(q.verdict).toBe('not qualified');
    expect(q.reasons[0]!.message).toBe('required cell max-migrate failed: segfault (quarantined in the matrix until 2027-01-31: issue 42; a quarantine keeps CI green but does not qualify a release: accept the failure under accepted_failures with a tracking URL and an expiry)');
  });

  it('judges expiry on the run\'s date, not today, and fails a limit nothing measured', () => {
    const late = { ...record(allPassed()), startedAt: '2027-01-02T00:00:00Z', finishedAt: '2027-01-02T00:10:00Z' };
    const kinds = evaluatePolicy(parse(policyText), late, plan).reasons.map((r) => r.kind);
    expect(kinds).toContain('acceptance-expired');
    const unmeasured = evaluatePolicy(parse(policyText), record(allPassed().map((c) => ({ ...c, events: [] }))), plan);
    expect(unmeasured.reasons.map((r) => r.message)).toContainEqual(expect.stringMatching(/no cell measured migrate.downtime_heartbeat_ms/));
  });
});
