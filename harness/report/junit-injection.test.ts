import { describe, expect, it } from 'vitest';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { buildJUnit } from './junit.js';
import { fixtureCell, fixtureRecord } from './fixture.test-helper.js';

const FORGED = ']]></system-out></testcase><testcase name="forged: passes" classname="bothworlds.forged"><system-out><![CDATA[';

function cases(xml: string): Array<{ name: string; 'system-out'?: string; error?: { '#text'?: string } }> {
  expect(XMLValidator.validate(xml)).toBe(true);
  const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (n) => ['testsuite', 'testcase'].includes(n) }).parse(xml) as { testsuites: { testsuite: Array<{ testcase: Array<{ name: string }> }> } };
  return parsed.testsuites.testsuite.flatMap((s) => s.testcase);
}

/** Issue 13, problem 4: application output must not write JUnit XML of its own. */
describe('JUnit with hostile application output', () => {
  it('splits every ]]> in CDATA, so output cannot plant a passing <testcase>', () => {
    const reason = `app said: one ]]> two ${FORGED} three ]]>`;
    const record = { ...fixtureRecord(), cells: [fixtureCell({ id: 'local-aaaaaa', outcome: 'error', reason, error: { code: 'APP', category: 'infrastructure', message: `stderr ${FORGED} ]]>` } })] };
    const parsed = cases(buildJUnit(record));
    expect(parsed.map((c) => c.name)).toEqual(['local-aaaaaa: application']);
    // The text survives exactly, all three `]]>` included.
    expect(parsed[0]!['system-out']).toBe(`error: ${reason}`);
    expect(parsed[0]!.error!['#text']).toContain(`stderr ${FORGED} ]]>`);
  });

  it('writes characters XML 1.0 forbids visibly instead of failing or writing a file no parser reads', () => {
    const reason = 'colour \x1b[31mred\x1b[0m, NUL \0, bell \x07, lone surrogate \ud800, \uffff end';
    const record = { ...fixtureRecord(), cells: [fixtureCell({ id: 'local-bbbbbb\x01', outcome: 'failed', reason })] };
    const parsed = cases(buildJUnit(record));
    expect(parsed[0]!.name).toBe('local-bbbbbb\\u{1}: application');
    expect(parsed[0]!['system-out']).toBe('failed: colour \\u{1b}[31mred\\u{1b}[0m, NUL \\u{0}, bell \\u{7}, lone surrogate \\u{d800}, \\u{ffff} end');
  });
});
