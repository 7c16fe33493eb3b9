import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { projectRoot } from '../../core/project-root.js';
import { pollUntil } from '../../core/deadline.js';
import type { RunRecord } from '../../report/run-record.js';
import { poolTestBed } from './pool-test-bed.test-helper.js';
import { recordDir } from './owner-record.js';
import { instanceUri, virsh } from './virsh.js';

/**
 * Issue 17: Ctrl+C while a pool run's cells are on remote daemons (over qemu+ssh) — one migrated to
 * the other host, the other waiting for a slot there — destroys and undefines every domain on both
 * daemons, ends every virsh and ssh process the run started (libvirtd's own p2p connection included)
 * and leaves no record of daemons to sweep. Runs the CLI from dist/ (npx tsc first).
 */
describe('Ctrl+C during a run on a pool of libvirt hosts', () => {
  const { dir, tag, uri, sshd } = poolTestBed('pool-interrupt');
  const ours = async (name: string) => (await virsh(instanceUri(name), ['list', '--all', '--name'])).split('\n').filter((d) => d.includes(tag));
  // Every virsh and ssh client of the run names the test sshd's client key (in the URI or -i).
  const clients = async () => (await execa('pgrep', ['-af', sshd().host.keyPath!], { reject: false })).stdout.split('\n').filter((l) => l && !l.includes('pgrep'));


  it('destroys and undefines the domains on every daemon, ends the ssh sessions, leaves no record', { timeout: 400_000 }, async () => {
    const file = join(dir, 'pool.yaml');
    writeFileSync(
      file,
      `name: pool-interrupt
app: {command: [sleep, "600"], timeout: 700s}
defaults: {backend: libvirt, memory: 384M, run: "${tag}", events: away}
axes: {cpu: [Nehalem, SandyBridge]}
scenarios:
  away:
    - {at: 1s, do: migrate, with: {max-bandwidth: 10G, timeout: 300s}}
timeout: 900s
hosts:
  - {name: big, address: 127.0.0.1, slots: 2, libvirt: "${uri('a')}"}
  - {name: small, address: 127.0.0.1, slots: 1, libvirt: "${uri('b')}"}
`,
    );
    const reports = join(dir, 'reports');
    const run = execa(process.execPath, [join(projectRoot(), 'bin', 'bothworlds.js'), 'run', file, '--reports', reports, '--plain'], { reject: false, all: true, env: { CI: 'true', NO_COLOR: '1' } });
    try {
      // Both cells start on "big" (most free slots); one migrates to "small", the other waits for its one slot.
      await pollUntil(async () => ({ onA: await ours('a'), runningOnB: await virsh(instanceUri('b'), ['list', '--name']) }), ({ onA, runningOnB }) => onA.length === 2 && runningOnB.includes(tag), {
        timeoutMs: 300_000,
        intervalMs: 250,
        what: `both cells defined on daemon a and one running on daemon b after migrating (run output: see the failure's cause)`,
      });
      expect(await clients()).not.toEqual([]);
      const interruptedAt = performance.now();
      run.kill('SIGINT');
      const result = await run;
      const teardownMs = performance.now() - interruptedAt;
      expect(result.exitCode, result.all).toBe(130);
      // The waiting migration does not hold the teardown for its 300 s timeout (teardown is ~10 s of
      // virsh over ssh on a quiet host, 35 s at load 20).
      expect(teardownMs, result.all).toBeLessThan(150_000);
      const [runDir] = readdirSync(reports);
      const record = JSON.parse(readFileSync(join(reports, runDir!, 'results.json'), 'utf8')) as RunRecord;
      expect(record.interrupted).toBe(true);
      expect(record.cells.map((c) => c.outcome)).toEqual(['interrupted', 'interrupted']);
      expect([...(await ours('a')), ...(await ours('b'))]).toEqual([]);
      expect(await clients()).toEqual([]);
      const records = readdirSync(recordDir()).filter((f) => readFileSync(join(recordDir(), f), 'utf8').includes(sshd().host.keyPath!));
      expect(records).toEqual([]);
      console.log(`pool run interrupted: teardown ${Math.round(teardownMs)} ms`);
    } finally {
      run.kill('SIGKILL');
      for (const name of ['a', 'b']) {
        for (const domain of await ours(name)) {
          await virsh(instanceUri(name), ['destroy', domain]).catch(() => undefined);
          await virsh(instanceUri(name), ['undefine', domain]).catch(() => undefined);
        }
      }
    }
  });
});
