import { describe, expect, it } from 'vitest';
import { LineBuffer } from '../machines/line-source.js';
import { MigrationWindows } from './client-downtime.js';
import { LoadGenerator } from './load-generator.js';

/** Resolves once `check` holds, polling the generator's state (a real child process decides when). */
async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('a load generator that dies', () => {
  // Exits 1 on its own after 300 ms: long after a migration's 2 s grace when one began and ended at once.
  const dying = ['sh', '-c', 'sleep 0.3; echo "Error: Connection reset by peer"; exit 1'];

  it('is excused and restarted when a migration overlapped its run, even one that ended long before it noticed', async () => {
    const windows = new MigrationWindows();
    const output = new LineBuffer();
    const load = await LoadGenerator.start({ command: dying, env: { PATH: process.env.PATH! }, output, migrations: windows });
    windows.begin();
    windows.end();
    // The grace of a finished migration has passed for this clock: only "a migration began since" excuses it.
    const covers = windows.covers.bind(windows);
    windows.covers = (now = performance.now()) => covers(now + 60_000);
    await until(() => load.runs === 2 || load.failed !== undefined, 'a restart or a failure');
    expect(load.failed).toBeUndefined();
    expect(load.restarts).toBe(1);
    expect(output.lines.map((l) => l.text)).toContainEqual(expect.stringMatching(/during a live migration .*; restarted/));
    // The restarted run saw no migration: its death is the load generator's failure.
    await until(() => load.failed !== undefined, 'the second run to fail');
    expect(load.failed).toBe('the load generator sh exited with code 1: Error: Connection reset by peer | Error: Connection reset by peer');
    expect(load.restarts).toBe(1);
    await load.stop();
  });

  it('fails the cell when no migration overlapped it', async () => {
    const load = await LoadGenerator.start({ command: dying, env: { PATH: process.env.PATH! }, output: new LineBuffer(), migrations: new MigrationWindows() });
    await until(() => load.failed !== undefined, 'the failure');
    expect(load.restarts).toBe(0);
    await load.stop();
  });
});
