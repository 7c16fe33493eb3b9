import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResourceScope } from '../../core/scope.js';
import type { StartedMachine } from '../machine.js';
import { connectSshMachine } from './ssh-machine.js';
import { startTestSshd } from './testing/test-sshd.js';

/** Issue 13, problem 6 over SSH: the application's environment is documented, not the session's or the harness's. */
describe('ssh: the application environment', () => {
  const root = new ResourceScope('ssh-env-test');
  let machine: StartedMachine;

  beforeAll(async () => {
    process.env.GITHUB_TOKEN = 'ghp_not_for_the_app';
    machine = await connectSshMachine((await startTestSshd(root)).host, { scope: root.child('main') });
  });
  afterAll(async () => {
    delete process.env.GITHUB_TOKEN;
    await root.dispose();
  });

  it('is PATH, HOME, LANG and what the cell gives it', async () => {
    const app = await machine.spawn(['env'], { env: { BW_CELL_ID: 'cell-1', APP_SETTING: 'on' } });
    await app.wait(10_000);
    const lines = machine.output.lines.filter((l) => l.source === 'app').map((l) => l.text);
    expect(lines.map((l) => l.slice(0, l.indexOf('='))).sort()).toEqual(['APP_SETTING', 'BW_CELL_ID', 'HOME', 'LANG', 'PATH']);
    expect(lines.join('\n')).not.toContain('not_for_the_app');
    expect(lines).toContain('LANG=C.UTF-8');
  });
});
