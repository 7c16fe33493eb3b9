import { describe, expect, it } from 'vitest';
import { at, defineCell, runOneCell } from '../harness/index.js';
import type { MachineSpec } from '../harness/model/machine-spec.js';

/**
 * Debian's redis-server installed as a Debian package into the debian-12 image (a derived image,
 * cached) and run as its own systemd unit: the harness restarts it with systemctl, follows its
 * journal and checks it with redis-cli in the guest while the machine changes under it. Real guests
 * under TCG; the first run builds the derived image (~30 s on a quiet host).
 */
const machine: Partial<MachineSpec> = {
  cpuModel: 'Nehalem',
  vcpus: 1,
  maxVcpus: 2,
  memoryMiB: 512,
  maxMemoryMiB: 1024,
  memorySlots: 2,
  image: { kind: 'distro', name: 'debian-12', packages: ['redis-server'] },
};

describe('redis-server.service in image debian-12', () => {
  it('passes cpu-plug, mem-plug, balloon and migrate, health checked with redis-cli in the guest', { timeout: 900_000 }, async () => {
    const result = await runOneCell(
      defineCell({
        machine,
        app: { command: [], unit: 'redis-server.service', packages: ['redis-server'], service: true, health: ['redis-cli', 'ping'], timeoutMs: 120_000 },
        events: [at(1_000, 'cpu-plug'), at(3_000, 'mem-plug', { size: '256M' }), at(5_000, 'balloon', { target: '75%' }), at(8_000, 'migrate')],
        timeoutMs: 600_000,
      }),
      { snapshots: true },
    );
    expect(result.outcome, result.reason).toBe('passed');
    expect(result.events.map((e) => [e.kind, e.outcome])).toEqual([
      ['cpu-plug', 'ok'],
      ['mem-plug', 'ok'],
      ['balloon', 'ok'],
      ['migrate', 'ok'],
    ]);
    const migration = result.events.find((e) => e.kind === 'migrate')!;
    expect(migration.metrics.downtime_heartbeat_ms!.value).toBeGreaterThan(0);
    // The unit's journal is the application's output: systemd's own lines about the restart.
    const app = result.log.filter((l) => l.source === 'app').map((l) => l.text);
    expect(app.some((line) => /Started redis-server\.service/.test(line)), app.join('\n')).toBe(true);
  });

  it('fails the cell, naming the unit, when systemctl cannot start it', { timeout: 600_000 }, async () => {
    const result = await runOneCell(
      defineCell({ machine, app: { command: [], unit: 'no-such-daemon.service', service: true, timeoutMs: 60_000 } }),
      { snapshots: true },
    );
    expect(result.outcome).toBe('failed');
    expect(result.reason).toMatch(/systemctl restart no-such-daemon\.service failed.*not found/);
  });
});
