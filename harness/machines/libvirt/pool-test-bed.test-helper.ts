import { afterAll, beforeAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { ResourceScope } from '../../core/scope.js';
import { projectRoot } from '../../core/project-root.js';
import { startTestSshd, type TestSshd } from '../ssh/testing/test-sshd.js';

export interface PoolTestBed {
  scope: ResourceScope;
  /** A private folder for the test's matrix files, removed after the file's tests. */
  dir: string;
  /** Domain names come from cell ids: a run tag keeps them apart from other tests' on the same daemons. */
  tag: string;
  sshd(): TestSshd;
  /** The `qemu+ssh://` URI of local daemon "a" or "b" through the test sshd. */
  uri(name: string): string;
}

/**
 * The two local libvirt daemons (scripts/services/libvirtd.sh) reached as `qemu+ssh://` through a
 * real sshd on 127.0.0.1, for the pool tests: started before the file's tests, torn down after.
 */
export function poolTestBed(name: string): PoolTestBed {
  const scope = new ResourceScope(`libvirt-${name}-test`);
  const dir = mkdtempSync(join(tmpdir(), `bw-libvirt-${name}-`));
  let sshd: TestSshd | undefined;
  beforeAll(async () => {
    await execa('bash', ['scripts/services/libvirtd.sh'], { cwd: projectRoot() });
    sshd = await startTestSshd(scope);
  });
  afterAll(async () => {
    await scope.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
  const started = (): TestSshd => {
    if (!sshd) throw new Error('the test sshd is not started yet (use it inside a test)');
    return sshd;
  };
  return {
    scope,
    dir,
    tag: Math.random().toString(36).slice(2, 8),
    sshd: started,
    uri: (daemon) => `qemu+ssh://root@127.0.0.1:${started().port}/system?socket=/run/bothworlds/libvirt-${daemon}/libvirt-sock&keyfile=${started().host.keyPath}&no_verify=1&no_tty=1&proxy=netcat`,
  };
}
