import { chmodSync, copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { projectRoot } from './project-root.js';
import { cgroupName, cgroupPids, createCgroup, isPopulated, localContainment, ownerOfCgroup, removeCgroup } from './cgroup.js';
import { killCgroup, waitForPopulated, waitUntilEmpty } from './cgroup-teardown.js';

const containment = localContainment();

describe('cgroup names', () => {
  it('carry the owner lock token and nothing else is taken for one', () => {
    const token = '/tmp/bothworlds-run-AbC123/alive.sock';
    const name = cgroupName(token);
    expect(name).toMatch(/^bothworlds-[A-Za-z0-9_-]+\.[0-9a-f]{12}$/);
    expect(ownerOfCgroup(name)).toBe(token);
    expect(cgroupName(token)).not.toBe(name); // unpredictable
    const encoded = (t: string) => `bothworlds-${Buffer.from(t).toString('base64url')}.0123456789ab`;
    expect(ownerOfCgroup(encoded('relative/alive.sock'))).toBeUndefined();
    expect(ownerOfCgroup(encoded('/tmp/x/other.sock'))).toBeUndefined();
    expect(ownerOfCgroup('bothworlds-probe.0123456789ab')).toBeUndefined();
    expect(ownerOfCgroup(`${name}x`)).toBeUndefined();
    expect(ownerOfCgroup('user.slice')).toBeUndefined();
  });
});

describe('where cgroups cannot be used', () => {
  it.runIf(process.getuid?.() === 0)('another user (no write access to the hierarchy) falls back to process groups and says why', async () => {
    // The checkout may sit in a private folder the other user cannot enter (a fresh clone under a
    // 0700 temp dir): it gets its own readable copy of the module and the two it imports.
    const copy = mkdtempSync(join(tmpdir(), 'bw-cgroup-other-user-'));
    try {
      chmodSync(copy, 0o755);
      for (const name of ['cgroup.js', 'errors.js', 'private-dir.js']) copyFileSync(join(projectRoot(), 'dist', 'harness', 'core', name), join(copy, name));
      writeFileSync(join(copy, 'package.json'), '{"type": "module"}');
      const probe = `const m = await import(${JSON.stringify(join(copy, 'cgroup.js'))}); console.log(m.describeContainment())`;
      const result = await execa('setpriv', ['--reuid', '1000', '--regid', '1000', '--clear-groups', process.execPath, '--input-type=module', '-e', probe], { reject: false, cwd: '/' });
      expect(result.stdout, result.stderr).toMatch(
        /^process group only \((no cgroup2 file system is mounted|.*is not writable here \(EACCES\)|.*read-only)\): an application that calls setsid escapes$/,
      );
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});

describe.runIf(containment.kind === 'cgroup')('cgroup teardown on this host', () => {
  const parent = containment.kind === 'cgroup' ? containment.parent : '';

  it('without cgroup.kill (per-pid SIGKILL, again until empty) a process forking all the time still goes', async () => {
    const cgroup = createCgroup(parent, cgroupName('/tmp/bothworlds-run-test00/alive.sock'));
    try {
      const forker = execa('sh', ['-c', 'echo $$ >"$1"; while :; do sleep 100 & sleep 0.005; done', 'forker', join(cgroup, 'cgroup.procs')], { reject: false });
      await waitForPopulated(cgroup, true, 5_000);
      await execa('sleep', ['0.2']); // let it fork a few dozen times
      expect(cgroupPids(cgroup).length).toBeGreaterThan(5);
      const t0 = performance.now();
      await killCgroup(cgroup, 10_000, true);
      console.log(`per-pid kill of a forking cgroup: ${(performance.now() - t0).toFixed(1)} ms`);
      expect(isPopulated(cgroup)).toBe(false);
      expect((await forker).signal).toBe('SIGKILL');
    } finally {
      removeCgroup(cgroup);
    }
    expect(existsSync(cgroup)).toBe(false);
  });

  it('a wait names the cgroup and the pids still in it', async () => {
    const cgroup = createCgroup(parent, cgroupName('/tmp/bothworlds-run-test01/alive.sock'));
    const sleeper = execa('sh', ['-c', 'echo $$ >"$1"; exec sleep 30', 'sleeper', join(cgroup, 'cgroup.procs')], { reject: false });
    try {
      await waitForPopulated(cgroup, true, 5_000);
      await expect(waitUntilEmpty(cgroup, 100)).rejects.toMatchObject({ code: 'DEADLINE', message: expect.stringContaining(`${cgroup} to have no process left`) });
    } finally {
      await killCgroup(cgroup);
      removeCgroup(cgroup);
    }
    expect((await sleeper).signal).toBe('SIGKILL');
  });
});
