import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { pollUntil } from '../../core/deadline.js';
import { projectRoot } from '../../core/project-root.js';
import { ResourceScope } from '../../core/scope.js';
import { startLocalMachine } from './index.js';

const DIST_LOCAL = join(projectRoot(), 'dist', 'harness', 'machines', 'local', 'index.js');

async function groupMembers(pgid: number): Promise<number[]> {
  const result = await execa('pgrep', ['-g', String(pgid)], { reject: false });
  return result.stdout.split('\n').filter(Boolean).map(Number);
}

/** Issue 13, problems 5 (local part) and 6. */
describe('local backend on a shared host', () => {
  let scope: ResourceScope | undefined;
  afterEach(async () => {
    await scope?.dispose();
    delete process.env.GITHUB_TOKEN;
    delete process.env.BOTHWORLDS_SSH_KEY_PASSPHRASE;
  });

  it('the application gets PATH, HOME, LANG and what the cell gives it, never the harness\'s secrets', async () => {
    process.env.GITHUB_TOKEN = 'ghp_not_for_the_app';
    process.env.BOTHWORLDS_SSH_KEY_PASSPHRASE = 'passphrase-not-for-the-app';
    scope = new ResourceScope('env-test');
    const machine = await startLocalMachine({ scope, name: 'env-test' });
    const app = await machine.spawn(['env'], { env: { BW_CELL_ID: 'cell-1', APP_SETTING: 'on' } });
    await app.wait(10_000);
    const lines = machine.output.lines.filter((l) => l.source === 'app').map((l) => l.text);
    const names = lines.map((l) => l.slice(0, l.indexOf('='))).sort();
    expect(names).toEqual(['APP_SETTING', 'BW_CELL_ID', 'HOME', 'LANG', 'PATH']);
    expect(lines.join('\n')).not.toMatch(/not_for_the_app|not-for-the-app/);
    expect(lines).toContain('LANG=C.UTF-8');
    expect(lines.find((l) => l.startsWith('PATH='))).toMatch(new RegExp(`^PATH=${machine.payloadDir}:`));
    const exec = await machine.exec(['sh', '-c', 'echo "${GITHUB_TOKEN:-unset}"']);
    expect(exec.stdout).toBe('unset\n');
  });

  it('kill -9 of the harness: every process the application started dies, not only the first', async () => {
    const script = `const { startLocalMachine } = await import(${JSON.stringify(DIST_LOCAL)});
const { ResourceScope } = await import(${JSON.stringify(join(projectRoot(), 'dist', 'harness', 'core', 'scope.js'))});
const m = await startLocalMachine({ scope: new ResourceScope('kill9'), name: 'kill9' });
const app = await m.spawn(['sh', '-c', 'sleep 300 & sleep 300 & echo ready; wait']);
await m.output.waitForLine(/^ready$/, 10000, 'app');
console.log(app.pid);
setInterval(() => {}, 1000);`;
    const harness = execa(process.execPath, ['--input-type=module', '-e', script], { reject: false });
    const pgid = await new Promise<number>((resolve, reject) => {
      harness.stdout!.on('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
      harness.then((r) => reject(new Error(`the stand-in harness exited: ${r.stderr}`)), reject);
    });
    expect((await groupMembers(pgid)).length).toBeGreaterThanOrEqual(3); // sh and two sleeps
    harness.kill('SIGKILL');
    await harness;
    const left = await pollUntil(() => groupMembers(pgid), (members) => members.length === 0, { timeoutMs: 5_000, intervalMs: 25, what: `process group ${pgid} to be empty after the harness was SIGKILLed` }).catch(async (error: unknown) => {
      await execa('kill', ['-KILL', '--', `-${pgid}`], { reject: false });
      throw error;
    });
    expect(left).toEqual([]);
  });
});
