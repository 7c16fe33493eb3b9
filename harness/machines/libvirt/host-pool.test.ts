import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { ResourceScope } from '../../run/resources.js';
import { projectRoot } from '../../core/project-root.js';
import { loadMatrix } from '../../matrix/load.js';
import { expandMatrix } from '../../matrix/expand.js';
import { probeKvm } from '../qemu/accel.js';
import { ensureDefaultImage } from '../../images/default-image.js';
import { HostPool } from '../hosts/pool.js';
import { createMachineFactory } from '../../run/start-machine.js';
import { startTestSshd, type TestSshd } from '../ssh/testing/test-sshd.js';
import type { LibvirtMachine } from './machine.js';
import { virsh } from './virsh.js';

/**
 * Two libvirt daemons (scripts/services/libvirtd.sh: "a" and "b") reached as `qemu+ssh://` through
 * a real sshd on 127.0.0.1, declared as a matrix's `hosts:` pool: libvirt cells are placed on them
 * by free slots and a live migration goes from one pool host to the other (`virsh migrate --p2p`).
 * libvirt's ssh transport runs `nc -U SOCKET` on the remote side (`proxy=netcat`: virt-ssh-helper
 * only knows the default sockets), so the hosts need netcat-openbsd.
 */
describe('a pool of libvirt hosts over qemu+ssh', () => {
  const scope = new ResourceScope('libvirt-host-pool-test');
  const dir = mkdtempSync(join(tmpdir(), 'bw-libvirt-pool-'));
  let sshd: TestSshd;
  const uri = (name: string) =>
    `qemu+ssh://root@127.0.0.1:${sshd.port}/system?socket=/run/bothworlds/libvirt-${name}/libvirt-sock&keyfile=${sshd.host.keyPath}&no_verify=1&no_tty=1&proxy=netcat`;

  beforeAll(async () => {
    await execa('bash', ['scripts/services/libvirtd.sh'], { cwd: projectRoot() });
    sshd = await startTestSshd(scope);
  });
  afterAll(async () => {
    await scope.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('places cells on the pool hosts by free slots and migrates between them', async () => {
    const file = join(dir, 'pool.yaml');
    writeFileSync(
      file,
      `name: libvirt-pool
app: {command: ["true"], timeout: 60s}
defaults: {backend: libvirt, memory: 384M}
axes: {cpu: [Nehalem, SandyBridge]}
hosts:
  - {name: host-a, address: 127.0.0.1, libvirt: "${uri('a')}"}
  - {name: host-b, address: 127.0.0.1, libvirt: "${uri('b')}"}
`,
    );
    const matrix = await loadMatrix(file);
    expect(matrix.doc.hosts.map((h) => h.libvirt)).toEqual([uri('a'), uri('b')]);
    const hosts = new HostPool(matrix.doc.hosts);
    const kvm = await probeKvm(await ensureDefaultImage());
    const start = createMachineFactory({ kvm, hosts, appFiles: async () => [] });
    const cells = expandMatrix(matrix).cells;
    const scopes = cells.map((c) => scope.child(c.id));
    const machines = (await Promise.all(cells.map((cell, i) => start(cell, scopes[i]!)))) as LibvirtMachine[];
    // One slot each: the two cells ran on different daemons, both reached over ssh.
    expect(new Set(machines.map((m) => m.uri))).toEqual(new Set([uri('a'), uri('b')]));
    expect(hosts.usage()).toEqual({ 'host-a': 1, 'host-b': 1 });
    for (const m of machines) expect((await m.exec(['true'])).exitCode).toBe(0);

    const [moving] = machines;
    const from = moving!.uri;
    const report = await moving!.controls.migrate!.migrate({ maxBandwidthBytesPerSec: 10 * 1024 ** 3, timeoutMs: 120_000 });
    expect(report.status).toBe('completed');
    expect(moving!.uri).not.toBe(from);
    expect((await virsh(moving!.uri, ['list', '--name'])).split('\n')).toContain(moving!.domain);
    expect((await virsh(from, ['list', '--name'])).split('\n')).not.toContain(moving!.domain);
    expect((await moving!.exec(['true'])).exitCode).toBe(0);

    for (const s of scopes) await s.dispose();
    expect(hosts.usage()).toEqual({ 'host-a': 0, 'host-b': 0 });
    for (const name of ['a', 'b']) {
      const left = await virsh(uri(name), ['list', '--all', '--name']);
      for (const m of machines) expect(left).not.toContain(m.domain);
    }
  });
});
