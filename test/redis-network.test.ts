import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { at, defineCell, runOneCell } from '../harness/index.js';
import type { Backend } from '../harness/model/machine-spec.js';
import { connect } from 'node:net';

/**
 * Debian's redis-server, unchanged, in the default guest on QEMU and on libvirt: health checked
 * from the host through the forwarded port, under redis-benchmark load, across a vCPU plug and a
 * live migration whose client-visible downtime is recorded. Real guests under TCG.
 */
const redisApp = {
  command: ['/opt/bothworlds/app/redis-server', '--port', '6379', '--save', '', '--protected-mode', 'no'],
  files: ['/usr/bin/redis-server', '/usr/bin/redis-cli'],
  service: true,
  readyPattern: 'Ready to accept connections',
  ports: [6379],
  health: { host: ['redis-cli', '-p', '$BW_PORT_6379', 'ping'] },
  load: ['redis-benchmark', '-p', '$BW_PORT_6379', '-q', '-c', '2', '-n', '1000000', '-t', 'set,get'],
  timeoutMs: 60_000,
};

const libvirtUp = existsSync('/run/bothworlds/libvirt-a/libvirt-sock') && existsSync('/run/bothworlds/libvirt-b/libvirt-sock');

describe.each<Backend>(['qemu', 'libvirt'])('redis-server on %s, reached from the host', (backend) => {
  it.skipIf(backend === 'libvirt' && !libvirtUp)('passes a host-side health check and load across a vCPU plug and a migration, recording client-visible downtime', async () => {
    const result = await runOneCell(
      defineCell({
        backend,
        machine: { cpuModel: 'Nehalem', vcpus: 1, maxVcpus: 2, memoryMiB: 512 },
        app: redisApp,
        events: [at(1_500, 'cpu-plug'), at(4_000, 'migrate')],
      }),
      { snapshots: backend === 'qemu' },
    );
    expect(result.outcome, result.reason).toBe('passed');
    // The host port is the harness's (a loopback listener), never the guest's own.
    expect(result.ports?.['6379']).toBeGreaterThan(1024);
    const migration = result.events.find((e) => e.kind === 'migrate')!;
    expect(migration.outcome).toBe('ok');
    const client = migration.metrics.downtime_client_ms!.value;
    // An answer must come back within the prober's bound; under TCG measured 150-400 ms.
    expect(client).toBeGreaterThan(0);
    expect(client).toBeLessThan(10_000);
    expect(migration.metrics.client_probes!.value).toBeGreaterThan(10);
    expect(migration.metrics.downtime_heartbeat_ms).toBeDefined();
    // The load ran on the host and its output is kept.
    const load = result.log.filter((l) => l.source === 'load');
    expect(load.some((l) => /SET: rps=/.test(l.text))).toBe(true);
    expect(result.metrics.load_runs!.value).toBeGreaterThanOrEqual(1);
  });
});

describe('guest networking', () => {
  it('fails the health check of a port nothing listens on, and skips ports on network: none', async () => {
    const [dead, none] = await Promise.all([
      runOneCell(defineCell({ axes: { case: 'dead-port' }, machine: { cpuModel: 'max', memoryMiB: 256 }, app: { command: ['sleep', '30'], service: true, ports: [7000], health: { tcp: 7000 }, timeoutMs: 30_000 } }), { snapshots: true }),
      runOneCell(defineCell({ axes: { case: 'no-network' }, machine: { cpuModel: 'max', memoryMiB: 256, network: 'none' }, app: { command: ['true'], ports: [7000] } }), { snapshots: true }),
    ]);
    // slirp accepts on the host before the guest answers: only a real answer counts (the guest's RST is a failure).
    expect(dead.outcome).toBe('failed');
    expect(dead.reason).toMatch(/health check tcp :7000 from the host failed: port 7000 did not answer/);
    expect(none.outcome).toBe('skipped');
    expect(none.reason).toMatch(/network: none/);
  });

  it('brings lo up, and eth0 only with a NIC', async () => {
    const withNic = await runOneCell(defineCell({ machine: { cpuModel: 'max', memoryMiB: 256 }, app: { command: ['sh', '-c', 'ip -o addr; ping -c1 -W1 127.0.0.1 >/dev/null && echo lo-ok'] } }), { snapshots: true });
    const output = withNic.log.filter((l) => l.source === 'app').map((l) => l.text).join('\n');
    expect(output).toMatch(/eth0\s+inet 10\.0\.2\.15\/24/);
    expect(output).toMatch(/lo-ok/);
    const none = await runOneCell(defineCell({ machine: { cpuModel: 'max', memoryMiB: 256, network: 'none' }, app: { command: ['sh', '-c', 'ip -o link | grep -c eth0 || true; ping -c1 -W1 127.0.0.1 >/dev/null && echo lo-ok'] } }), { snapshots: true });
    const noneOutput = none.log.filter((l) => l.source === 'app').map((l) => l.text).join('\n');
    expect(noneOutput).toMatch(/^0$/m);
    expect(noneOutput).toMatch(/lo-ok/);
  });

  it('closes the forwarded port with the cell', async () => {
    const result = await runOneCell(defineCell({ machine: { cpuModel: 'max', memoryMiB: 256 }, app: { command: ['true'], ports: [80] } }), { snapshots: true });
    const port = result.ports!['80']!;
    const refused = await new Promise<string>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => resolve('connected'));
      socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
  });
});
