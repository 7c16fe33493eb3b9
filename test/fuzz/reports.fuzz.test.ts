import fc from 'fast-check';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { buildJUnit } from '../../harness/report/junit.js';
import { buildJson } from '../../harness/report/json.js';
import { buildMarkdown } from '../../harness/report/markdown.js';
import { renderIndex } from '../../harness/report/html/index-page.js';
import { renderCellPage } from '../../harness/report/html/cell-page.js';
import { neutralise } from '../../harness/report/neutralise.js';
import { xmlText } from '../../harness/report/xml-text.js';
import { fixtureCell, fixtureRecord } from '../../harness/report/fixture.test-helper.js';
import type { CellResult } from '../../harness/model/result.js';
import type { RunRecord } from '../../harness/report/run-record.js';

/** Text an application or a matrix could produce: anything, with the hostile pieces often. */
const hostile = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
  { weight: 3, arbitrary: fc.array(fc.constantFrom('<bwx onload=1>', ']]>', ']]]]>', '<![CDATA[', '\x1b[31m', '\x1b]0;t\x07', '::error::x', '\n::add-mask::s', '"\'&;', '\u0000', '\ud800', '\uffff', '</testcase>', '&amp;', '\r'), { maxLength: 6 }).map((parts) => parts.join('x')) },
);
const outcome = fc.constantFrom('passed', 'failed', 'error', 'incomplete', 'skipped', 'interrupted' as const);

const cell = fc.record({ id: hostile, outcome, reason: fc.option(hostile, { nil: undefined }), axisValue: hostile, log: fc.array(hostile, { maxLength: 4 }), errorMessage: hostile, check: hostile }).map(
  (c): CellResult =>
    fixtureCell({
      id: `c-${c.id}`,
      outcome: c.outcome,
      ...(c.reason !== undefined ? { reason: c.reason } : {}),
      axes: { backend: 'local', cpu: c.axisValue },
      log: c.log.map((text, i) => ({ t: i, source: 'app' as const, text })),
      ...(c.outcome === 'error' ? { error: { code: 'FUZZ', category: 'infrastructure' as const, message: c.errorMessage } } : {}),
      suites: [{ suite: 'fuzz-suite', outcome: c.outcome === 'failed' ? 'failed' : 'passed', durationMs: 1, checks: [{ name: 'check', outcome: c.outcome === 'failed' ? 'failed' : 'passed', message: c.check }], metrics: {} }] as unknown as CellResult['suites'],
    }),
);
const records = fc.array(cell, { minLength: 1, maxLength: 4 }).map((cells): RunRecord => {
  const unique = cells.map((c, i) => ({ ...c, id: `${c.id}-${i}` }));
  return { ...fixtureRecord(), cells: unique, cellIds: unique.map((c) => c.id) };
});

/** Issue 13: random results and application output through every report writer. */
describe('fuzz: report writers', () => {
  it('junit.xml is always well-formed, with one testcase per cell and nothing planted', () => {
    fc.assert(
      fc.property(records, (record) => {
        const xml = buildJUnit(record);
        expect(XMLValidator.validate(xml)).toBe(true);
        const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', htmlEntities: true, isArray: (n) => ['testsuite', 'testcase'].includes(n) }).parse(xml) as { testsuites: { tests: string; testsuite: Array<{ name: string; testcase: Array<{ name: string }> }> } };
        // One suite per cell, and every case belongs to its cell: none was planted by the output.
        expect(parsed.testsuites.testsuite.map((s) => String(s.name))).toEqual(record.cells.map((c) => xmlText(c.id)));
        for (const suite of parsed.testsuites.testsuite) for (const c of suite.testcase) expect(String(c.name).startsWith(`${suite.name}: `)).toBe(true);
        expect(parsed.testsuites.testsuite.flatMap((s) => s.testcase).length).toBe(Number(parsed.testsuites.tests));
      }),
      { numRuns: 300 },
    );
  });

  it('HTML pages carry no unescaped markup from results; Markdown and JSON do not throw', () => {
    fc.assert(
      fc.property(records, (record) => {
        const pages = [renderIndex(record), ...record.cells.map((c) => renderCellPage(record, c))];
        for (const page of pages) expect(page).not.toContain('<bwx');
        expect(JSON.parse(buildJson(record))).toBeTruthy();
        expect(typeof buildMarkdown(record)).toBe('string');
      }),
      { numRuns: 150 },
    );
  });

  it('neutralised output has no control character and, in CI, no line a runner obeys', () => {
    fc.assert(
      fc.property(hostile, (text) => {
        const out = neutralise(text, { ci: true });
        expect(out).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
        for (const line of out.split('\n')) expect(line).not.toMatch(/^\s*(::|##)/);
      }),
      { numRuns: 2000 },
    );
  });
});
