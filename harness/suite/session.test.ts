import { describe, expect, it } from 'vitest';
import type { Cell } from '../model/cell.js';
import type { MachineFacts } from '../model/facts.js';
import type { StartedMachine } from '../machines/machine.js';
import { defineSuite } from './api.js';
import { SuiteSession } from './session.js';

const machine = { output: { push: () => undefined } } as unknown as StartedMachine;
const cell = { id: 'c' } as Cell;
const facts = {} as MachineFacts;

describe('SuiteSession', () => {
  it('a check that could not be evaluated leaves its suite incomplete, never passed', async () => {
    const partial = defineSuite({
      name: 'partial',
      description: 'one check runs, one cannot',
      async check(context) {
        context.check('ran', true, 'fine');
        context.skipCheck('could not', 'no downtime was measured');
      },
    });
    const whole = defineSuite({ name: 'whole', description: 'every check runs', check: async (context) => void context.check('ran', true, 'fine') });
    const session = new SuiteSession([{ suite: partial, options: {} }, { suite: whole, options: {} }], cell, machine, facts, new AbortController().signal);
    await session.run('check');
    const [first, second] = session.results();
    expect(first).toMatchObject({ suite: 'partial', outcome: 'incomplete', reason: 'could not check "could not": no downtime was measured' });
    expect(second).toMatchObject({ suite: 'whole', outcome: 'passed' });
  });

  it('a failed check outweighs one that could not be evaluated', async () => {
    const suite = defineSuite({
      name: 'mixed',
      description: 'a failure and a skip',
      async check(context) {
        context.skipCheck('skipped', 'n/a');
        context.check('failed', false, 'app kept 1 worker');
      },
    });
    const session = new SuiteSession([{ suite, options: {} }], cell, machine, facts, new AbortController().signal);
    await session.run('check');
    expect(session.results()[0]).toMatchObject({ outcome: 'failed', reason: 'failed: app kept 1 worker' });
  });
});
