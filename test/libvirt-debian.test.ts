import { describe, expect, it } from 'vitest';
import { at, defineCell, runOneCell } from '../harness/index.js';
import type { MachineSpec } from '../harness/model/machine-spec.js';
import { instanceUri, virsh } from '../harness/machines/libvirt/virsh.js';

/**
 * The debian-12 image (with Debian's redis-server, a cached derived image that redis-debian.test.ts
 * builds too) as a libvirt domain: default kernel + root-mounting initramfs + a private overlay as
 * vda, redis-server.service as the application (journal followed, health checked with redis-cli in
 * the guest), and a live migration to the second libvirtd and back with the disk following the
 * domain. Real libvirtd a and b (scripts/services/libvirtd.sh), TCG.
 */
const machine: Partial<MachineSpec> = {
  cpuModel: 'Nehalem',
  vcpus: 1,
  maxVcpus: 2,
  memoryMiB: 512,
  image: { kind: 'distro', name: 'debian-12', packages: ['redis-server'] },
};

describe('redis-server.service in image debian-12 on libvirt', () => {
  it('passes cpu-plug and a migration a→b and back, health checked with redis-cli in the guest', { timeout: 900_000 }, async () => {
    const cell = defineCell({
      backend: 'libvirt',
      machine,
      app: { command: [], unit: 'redis-server.service', packages: ['redis-server'], service: true, health: ['redis-cli', 'ping'], timeoutMs: 120_000 },
      events: [at(1_000, 'cpu-plug'), at(3_000, 'migrate'), at(6_000, 'migrate')],
      timeoutMs: 600_000,
    });
    const result = await runOneCell(cell);
    expect(result.outcome, result.reason).toBe('passed');
    expect(result.events.map((e) => [e.kind, e.outcome])).toEqual([
      ['cpu-plug', 'ok'],
      ['migrate', 'ok'],
      ['migrate', 'ok'],
    ]);
    const [away, home] = result.events.filter((e) => e.kind === 'migrate');
    expect([away!.detail?.to, home!.detail?.to]).toEqual([instanceUri('b'), instanceUri('a')]);
    // The image's own bothworlds ports work under libvirt: the heartbeat measured each switchover.
    for (const migration of [away!, home!]) expect(migration.metrics.downtime_heartbeat_ms!.value).toBeGreaterThan(0);
    console.log(`debian-12 on libvirt: boot ${result.metrics.boot_ms?.value.toFixed(0)} ms; migrations wall ${away!.metrics.wall_ms!.value.toFixed(0)} / ${home!.metrics.wall_ms!.value.toFixed(0)} ms, downtime (QEMU) ${away!.metrics.downtime_qemu_ms?.value} / ${home!.metrics.downtime_qemu_ms?.value} ms`);
    // The unit's journal streamed as the application's output.
    const app = result.log.filter((l) => l.source === 'app').map((l) => l.text);
    expect(app.some((line) => /Started redis-server\.service/.test(line)), app.join('\n')).toBe(true);
    for (const uri of [instanceUri('a'), instanceUri('b')]) expect(await virsh(uri, ['list', '--all', '--name'])).not.toContain(cell.id);
  });
});
