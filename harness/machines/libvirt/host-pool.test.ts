import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadMatrix, type MatrixFile } from '../../matrix/load.js';
import { expandMatrix } from '../../matrix/expand.js';
import { probeKvm } from '../qemu/accel.js';
import { ensureDefaultImage } from '../../images/default-image.js';
import { HostPool } from '../hosts/pool.js';
import { createMachineFactory } from '../../run/start-machine.js';
import { poolTestBed } from './pool-test-bed.test-helper.js';
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
  const { scope, dir, tag, uri } = poolTestBed('pool');
  let matrix: MatrixFile | undefined;


  it('places cells on the pool hosts by free slots and migrates between them', { timeout: 300_000 }, async () => {
    const hosts = new HostPool(await poolOf([{ name: 'host-a', socket: 'a' }, { name: 'host-b', socket: 'b' }]));
    const { machines, scopes } = await startCells(hosts, ['Nehalem', 'SandyBridge']);
    // One slot each: the two cells ran on different daemons, both reached over ssh.
    expect(new Set(machines.map((m) => m.uri))).toEqual(new Set([uri('a'), uri('b')]));
    expect(hosts.usage()).toEqual({ 'host-a': 1, 'host-b': 1 });
    for (const m of machines) expect((await m.exec(['true'])).exitCode).toBe(0);

    // Each host's one slot is taken: a migration finds no free destination within its timeout.
    const [moving, staying] = machines as [LibvirtMachine, LibvirtMachine];
    const from = moving.uri;
    const blocked = await moving.controls.migrate!.migrate({ timeoutMs: 1_500 }).catch((e: unknown) => e);
    expect(blocked).toMatchObject({ code: 'DEADLINE', message: expect.stringMatching(/a free slot on a libvirt host of the pool other than "host-[ab]".*slots used: host-[ab] 1 of 1/) });
    expect(moving.uri).toBe(from);
    expect(hosts.usage()).toEqual({ 'host-a': 1, 'host-b': 1 });

    // It waits instead, and goes once the other cell ends and frees its slot.
    const migrating = moving.controls.migrate!.migrate({ maxBandwidthBytesPerSec: 10 * 1024 ** 3, timeoutMs: 120_000 });
    expect(hosts.waiting).toBe(1);
    await scopes[1]!.dispose();
    expect((await migrating).status).toBe('completed');
    expect(moving.uri).toBe(staying.uri);
    expect((await virsh(moving.uri, ['list', '--name'])).split('\n')).toContain(moving.domain);
    expect((await virsh(from, ['list', '--name'])).split('\n')).not.toContain(moving.domain);
    expect((await moving.exec(['true'])).exitCode).toBe(0);
    // Its home slot stays the cell's (the way back always fits); the destination's is leased too.
    expect(hosts.usage()).toEqual({ 'host-a': 1, 'host-b': 1 });

    await scopes[0]!.dispose();
    expect(hosts.usage()).toEqual({ 'host-a': 0, 'host-b': 0 });
    await expectNoDomains(machines);
  });

  it('leases the destination: of two cells migrating onto a one-slot host, one goes and the other waits for the slot to come back', { timeout: 300_000 }, async () => {
    const hosts = new HostPool(await poolOf([{ name: 'big', socket: 'a', slots: 2 }, { name: 'small', socket: 'b' }]));
    // Most free slots first, the first listed among equals: both cells land on "big".
    const { machines, scopes } = await startCells(hosts, ['Nehalem', 'SandyBridge']);
    expect(machines.map((m) => m.uri)).toEqual([uri('a'), uri('a')]);
    const [first, second] = machines as [LibvirtMachine, LibvirtMachine];
    // A migration that fails after leasing its destination (libvirt refuses the downtime) gives the slot back.
    await expect(first.controls.migrate!.migrate({ downtimeLimitMs: -1 })).rejects.toMatchObject({ code: 'LIBVIRT' });
    expect(first.uri).toBe(uri('a'));
    expect(hosts.usage()).toEqual({ big: 2, small: 0 });
    const going = first.controls.migrate!.migrate({ maxBandwidthBytesPerSec: 10 * 1024 ** 3, timeoutMs: 120_000 });
    const refused = await second.controls.migrate!.migrate({ timeoutMs: 1_500 }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'DEADLINE', message: expect.stringMatching(/other than "big" to migrate .*slots used: small 1 of 1/) });
    expect((await going).status).toBe('completed');
    expect([first.uri, second.uri]).toEqual([uri('b'), uri('a')]);
    expect(hosts.usage()).toEqual({ big: 2, small: 1 });

    // The second waits; the first moving back home gives the slot back, and the second takes it.
    const waiting = second.controls.migrate!.migrate({ maxBandwidthBytesPerSec: 10 * 1024 ** 3, timeoutMs: 120_000 });
    expect(hosts.waiting).toBe(1);
    expect((await first.controls.migrate!.migrate({ maxBandwidthBytesPerSec: 10 * 1024 ** 3, timeoutMs: 120_000 })).status).toBe('completed');
    expect((await waiting).status).toBe('completed');
    expect([first.uri, second.uri]).toEqual([uri('a'), uri('b')]);
    expect(hosts.usage()).toEqual({ big: 2, small: 1 });
    for (const m of machines) expect((await m.exec(['true'])).exitCode).toBe(0);

    // The cell's end gives back its away slot as well as its home slot.
    await scopes[1]!.dispose();
    expect(hosts.usage()).toEqual({ big: 1, small: 0 });
    await scopes[0]!.dispose();
    expect(hosts.usage()).toEqual({ big: 0, small: 0 });
    await expectNoDomains(machines);
  });

  async function poolOf(entries: { name: string; socket: string; slots?: number }[]) {
    const file = join(dir, `pool-${entries.map((e) => e.name).join('-')}.yaml`);
    const lines = entries.map((e) => `  - {name: ${e.name}, address: 127.0.0.1, slots: ${e.slots ?? 1}, libvirt: "${uri(e.socket)}"}`);
    writeFileSync(file, `name: libvirt-pool\napp: {command: ["true"], timeout: 60s}\ndefaults: {backend: libvirt, memory: 384M, run: "${tag}"}\naxes: {cpu: [Nehalem, SandyBridge]}\nhosts:\n${lines.join('\n')}\n`);
    matrix = await loadMatrix(file);
    expect(matrix.doc.hosts.map((h) => h.libvirt)).toEqual(entries.map((e) => uri(e.socket)));
    return matrix.doc.hosts;
  }

  async function startCells(hosts: HostPool, cpus: string[]) {
    const start = createMachineFactory({ kvm: await probeKvm(await ensureDefaultImage()), hosts, appFiles: async () => [] });
    const cells = expandMatrix(matrix!).cells.filter((c) => cpus.includes(c.machine.cpuModel));
    const scopes = cells.map((c) => scope.child(c.id));
    const machines = (await Promise.all(cells.map((cell, i) => start(cell, scopes[i]!)))) as LibvirtMachine[];
    return { machines, scopes };
  }

  async function expectNoDomains(machines: LibvirtMachine[]) {
    for (const name of ['a', 'b']) {
      const left = await virsh(uri(name), ['list', '--all', '--name']);
      for (const m of machines) expect(left).not.toContain(m.domain);
    }
  }
});
