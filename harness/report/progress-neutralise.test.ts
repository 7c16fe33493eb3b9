import { describe, expect, it } from 'vitest';
import { createProgress } from './progress.js';
import { neutralise } from './neutralise.js';
import { captureStream, fixtureCell } from './fixture.test-helper.js';

// Wide enough that a terminal line never cuts the hostile text before neutralising is checked.
const capture = (isTTY: boolean) => captureStream(isTTY, 400);

const HOSTILE = 'app said \x1b]0;owned title\x07\x1b[2J\x1b[31mred\x1b[0m \x9b31m8-bit\rfake line\n::error title=Forged::all tests failed\n  ::add-mask::secret\n##vso[task.setvariable variable=x]1\x07\x00';

/** Issue 13, problem 7: application output reaches a terminal or a CI log neutralised. */
describe('progress output from hostile applications', () => {
  it('in CI: no escape sequence, no control character, no line a runner would obey', () => {
    const out = capture(false);
    const progress = createProgress({ total: 1, mode: 'auto', stream: out.stream, env: { CI: 'true' } });
    progress.cellFinished(fixtureCell({ id: 'local-aaaaaa', outcome: 'failed', reason: HOSTILE }));
    progress.message(`from the app: ${HOSTILE}`);
    progress.close();
    const text = out.text();
    expect(text).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
    for (const line of text.split('\n')) expect(line).not.toMatch(/^\s*(::|##)/);
    expect(text).toContain('\\::error title=Forged::all tests failed');
    expect(text).toContain('  \\::add-mask::secret');
    expect(text).toContain('app said red 8-bit\nfake line'); // the text survives, only the controls go; CR is a line break
    expect(text).toContain('\\x07\\x00');
  });

  it('on a terminal: only the bar\'s own colours and line clears, nothing of the application\'s', () => {
    const out = capture(true);
    const progress = createProgress({ total: 1, mode: 'auto', stream: out.stream, env: {} });
    progress.cellStarted(`local-${HOSTILE}`);
    progress.cellFinished(fixtureCell({ id: 'local-aaaaaa', outcome: 'failed', reason: HOSTILE }));
    progress.close();
    const foreign = out.text().replace(/\x1b\[(?:\d+m|2K)|\r/g, '');
    expect(foreign).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
  });

  it('keeps ordinary text, tabs and UTF-8 as they are', () => {
    expect(neutralise('é 日本 \t tab ::not-at-start', { ci: true })).toBe('é 日本 \t tab ::not-at-start');
  });
});
