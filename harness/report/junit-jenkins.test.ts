import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { projectRoot } from '../core/project-root.js';
import { buildJUnit } from './junit.js';
import { assertValidJUnit } from './junit-validate.js';
import { fixtureCell, fixtureRecord } from './fixture.test-helper.js';
import type { RunRecord } from './run-record.js';

const SCHEMA = join(projectRoot(), 'test', 'fixtures', 'junit', 'jenkins-xunit-junit-10.xsd');

async function validate(xml: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bw-junit-'));
  try {
    writeFileSync(join(dir, 'junit.xml'), xml);
    await assertValidJUnit(join(dir, 'junit.xml'), SCHEMA);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type Case = { name: string; time: string; failure?: { '#text'?: string }; error?: { type: string }; skipped?: unknown };
const casesOf = (xml: string): Case[] =>
  (
    new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (n) => ['testsuite', 'testcase'].includes(n) }).parse(xml) as { testsuites: { testsuite: Array<{ testcase: Case[] }> } }
  ).testsuites.testsuite.flatMap((s) => s.testcase);

/** An error cell whose two suites passed before QEMU died; suites overlap in time (each timed from its own start). */
function errorRecord(): RunRecord {
  const record = fixtureRecord();
  record.cells = [
    fixtureCell({
      id: 'qemu-max-vcpus1-eeeeee',
      outcome: 'error',
      reason: 'QEMU exited',
      error: { code: 'QEMU_EXITED', category: 'infrastructure', message: 'QEMU killed by SIGKILL' },
      durationMs: 10_000,
      suites: [
        { suite: 'cpu-model', outcome: 'passed', checks: [], metrics: {}, durationMs: 9_000 },
        { suite: 'clocks', outcome: 'passed', checks: [], metrics: {}, durationMs: 8_000 },
      ],
    }),
    fixtureCell({ id: 'qemu-max-vcpus2-ffffff', outcome: 'incomplete', reason: 'event migrate never triggered', durationMs: 0.0001 }),
    fixtureCell({
      id: 'qemu-max-vcpus4-aaaaaa',
      outcome: 'failed',
      reason: 'app exited with code 1, expected 0',
      log: [...Array.from({ length: 30 }, (_, i) => ({ t: i, source: 'app' as const, text: `app line ${i}` })), { t: 40, source: 'console', text: 'Kernel panic <b> ]]> here' }],
    }),
  ];
  record.cellIds = record.cells.map((c) => c.id);
  return record;
}

describe('JUnit that Jenkins accepts (xUnit junit-10.xsd, through xmllint)', () => {
  it('the fixture run with every outcome validates; <testsuites> carries no skipped', async () => {
    const xml = buildJUnit(fixtureRecord());
    await validate(xml);
    expect(xml).toMatch(/<testsuites tests="\d+" failures="\d+" errors="\d+">/);
  });

  it('an error cell: passed suites stay passed, the error is a case of its own, times add up to the cell', async () => {
    const xml = buildJUnit(errorRecord());
    await validate(xml);
    const cases = casesOf(xml).filter((c) => c.name.startsWith('qemu-max-vcpus1-eeeeee'));
    expect(cases.map((c) => [c.name.split(': ')[1], c.error ? 'error' : 'passed'])).toEqual([
      ['cpu-model', 'passed'],
      ['clocks', 'passed'],
      ['infrastructure', 'error'],
    ]);
    expect(cases.reduce((n, c) => n + Number(c.time), 0)).toBeCloseTo(10, 2);
    expect(cases[2]!.error!.type).toBe('QEMU_EXITED');
  });

  it('an incomplete cell is <error type="incomplete">, and a sub-millisecond time is no exponent', async () => {
    const xml = buildJUnit(errorRecord());
    const [incomplete] = casesOf(xml).filter((c) => c.name.startsWith('qemu-max-vcpus2-ffffff'));
    expect(incomplete!.error!.type).toBe('incomplete');
    expect(incomplete!.time).toBe('0');
  });

  it("a failure's body carries the last 20 lines of the app's output and the console's", () => {
    const [failed] = casesOf(buildJUnit(errorRecord())).filter((c) => c.failure);
    const body = failed!.failure!['#text']!;
    expect(body).toContain('--- application output (last 20 lines) ---');
    expect(body).toContain('app line 29');
    expect(body).not.toContain('app line 9\n');
    expect(body).toContain('--- console (last 1 lines) ---\nKernel panic <b> ]]> here');
  });
});
