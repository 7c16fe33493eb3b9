import { describe, expect, it } from 'vitest';
import { buildMarkdown, ciRunLink } from './markdown.js';
import { githubAnnotations } from './github-annotations.js';
import { fixtureCell, fixtureRecord } from './fixture.test-helper.js';

describe('what a CI shows', () => {
  it('summary.md links the HTML report, and the run page on GitHub Actions', () => {
    const env = { GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'acme/app', GITHUB_RUN_ID: '42' };
    const md = buildMarkdown(fixtureRecord(), { htmlReport: 'index.html', ...ciRunLink(env) });
    expect(md).toContain("Full report: [HTML report](index.html) · [this run's artifacts](https://github.com/acme/app/actions/runs/42)");
    expect(ciRunLink({})).toEqual({});
    expect(ciRunLink({ ...env, GITHUB_RUN_ID: '42)[x](http://evil' })).toEqual({});
  });

  it('::error annotations name each cell that did not pass; app text cannot end the command or start another', () => {
    const record = fixtureRecord();
    record.cells.push(fixtureCell({ id: 'qemu-max-vcpus2-hhhhhh', outcome: 'failed', reason: 'app said:\n::add-mask::secret\r\n\u001b[31m100%\u001b[0m done' }));
    const out = githubAnnotations(record, { htmlReport: 'reports/r/index.html' });
    const lines = out.trimEnd().split('\n');
    // failed (fixture), error (fixture), and the hostile one; passed, skipped and interrupted cells get none
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).toMatch(/^::error title=bothworlds (failed|error|incomplete)%3A [^:,]+::/);
    const hostile = lines.find((l) => l.includes('hhhhhh'))!;
    expect(hostile).toBe('::error title=bothworlds failed%3A qemu-max-vcpus2-hhhhhh::qemu-max-vcpus2-hhhhhh: app said:%0A::add-mask::secret%0A100%25 done');
    expect(out).not.toContain('\u001b');
  });

  it('caps annotations at 10 with a line saying how many more and where to look', () => {
    const record = fixtureRecord();
    record.cells = Array.from({ length: 13 }, (_, i) => fixtureCell({ id: `c${i}`, outcome: 'failed', reason: 'x' }));
    const lines = githubAnnotations(record, { htmlReport: 'reports/r/index.html' }).trimEnd().split('\n');
    expect(lines).toHaveLength(11);
    expect(lines[10]).toBe('::error title=bothworlds::3 more cell(s) did not pass: see reports/r/index.html');
  });
});
