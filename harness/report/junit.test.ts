import { describe, expect, it } from 'vitest';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { buildJUnit } from './junit.js';
import { fixtureRecord } from './fixture.test-helper.js';

interface Case { name: string; classname: string; failure?: { message: string }; error?: { message: string; type: string; '#text'?: string }; skipped?: { message: string }; 'system-out'?: string }
interface Suite { name: string; tests: string; failures: string; errors: string; skipped: string; properties: { property: Array<{ name: string; value: string }> }; testcase: Case[] }

function parse(xml: string): { testsuites: { tests: string; failures: string; errors: string; skipped: string; testsuite: Suite[] } } {
  expect(XMLValidator.validate(xml)).toBe(true);
  return new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name) }).parse(xml);
}

describe('JUnit', () => {
  const record = fixtureRecord();
  const xml = buildJUnit(record);
  const { testsuites } = parse(xml);
  const cases = testsuites.testsuite.flatMap((s) => s.testcase);

  it('has one testsuite per cell and one testcase per cell × suite, with counts that match', () => {
    expect(testsuites.testsuite.map((s) => s.name)).toEqual(record.cells.map((c) => c.id));
    // two cells with two suites, four cells with none ("application")
    expect(cases).toHaveLength(8);
    expect(Number(testsuites.tests)).toBe(8);
    expect(cases.filter((c) => c.failure)).toHaveLength(1);
    expect(cases.filter((c) => c.error)).toHaveLength(1);
    expect(cases.filter((c) => c.skipped)).toHaveLength(2); // skipped + interrupted
    // junit-10.xsd (Jenkins xUnit) has no skipped on <testsuites>: each <testsuite> carries its own.
    expect([testsuites.failures, testsuites.errors].map(Number)).toEqual([1, 1]);
    expect(testsuites.skipped).toBeUndefined();
    expect(testsuites.testsuite.reduce((n, s) => n + Number(s.skipped), 0)).toBe(2);
    for (const suite of testsuites.testsuite) expect(Number(suite.tests)).toBe(suite.testcase.length);
  });

  it('names cases by cell and suite with a stable classname, and says why each did not pass', () => {
    const failed = cases.find((c) => c.failure)!;
    expect(failed.name).toBe('qemu-sandybridge-vcpus1-bbbbbb: hotplug-awareness');
    expect(failed.classname).toBe('bothworlds.fixture.qemu-sandybridge-vcpus1-bbbbbb');
    expect(failed.failure!.message).toMatch(/^workers follow vCPUs: app kept 1 worker threads after vCPUs went 1→2/);
    const error = cases.find((c) => c.error)!;
    expect(error.error).toMatchObject({ message: 'QEMU exited', type: 'QEMU_EXITED' });
    expect(error.error!['#text']).toContain('QEMU_EXITED (infrastructure): QEMU killed by SIGKILL');
    expect(error.error!['#text']).toContain('attempt 2: error');
    const skipped = cases.filter((c) => c.skipped).map((c) => c.skipped!.message);
    expect(skipped).toEqual(["CPU model 'host-passthrough' requires KVM", 'interrupted: SIGINT while the app ran']);
    const passedSuiteOfFailedCell = cases.find((c) => c.name === 'qemu-sandybridge-vcpus1-bbbbbb: migration')!;
    expect(passedSuiteOfFailedCell.failure).toBeUndefined();
  });

  it('carries axis values and metrics with units as properties, events as system-out', () => {
    const suite = testsuites.testsuite.find((s) => s.name === 'qemu-nehalem-vcpus1-aaaaaa')!;
    const props = Object.fromEntries(suite.properties.property.map((p) => [p.name, p.value]));
    expect(props).toMatchObject({ 'axis.cpu': 'Nehalem', 'axis.vcpus': '1', 'metric.boot_ms': '1700 ms', backend: 'qemu', accel: 'tcg' });
    const migration = suite.testcase.find((c) => c.name.endsWith('migration'))!;
    expect(migration['system-out']).toContain('event migrate: ok (requested 2600 ms, acknowledged 3500 ms, observed 3600 ms) downtime_qemu_ms=12 ms');
    expect(migration['system-out']).toContain('[passed] requests survive');
    expect(migration['system-out']).toContain('metric lost_requests = 0 count');
    expect(props['metric.migration.lost_requests']).toBe('0 count');
    // junit-4.xsd (Jenkins xUnit) has no <properties> on <testcase>
    expect(xml).not.toMatch(/<testcase[^>]*>\s*<properties>/);
  });

  it('stays well-formed with terminal escapes, markup and CDATA terminators in guest text', () => {
    expect(xml).not.toContain('\u001b');
    expect(cases.find((c) => c.failure)!.failure!.message).toContain(']]> <b>');
  });
});
