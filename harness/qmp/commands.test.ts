import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { pollUntil } from '../core/deadline.js';
import { ResourceScope } from '../core/scope.js';
import { QmpClient } from './client.js';
import type { MigrationInfo, MigrationRamStats, PcDimmDeviceInfo } from './commands.js';
import { eventData } from './events.js';
import { registeredTempDir, startQemu } from './test-support.js';

/** Compile-time complete key lists: the compiler insists every field of the type is here, once. */
const ramStatsKeys: Record<keyof MigrationRamStats, true> = {
  transferred: true, remaining: true, total: true, duplicate: true, skipped: true, normal: true, 'normal-bytes': true,
  'dirty-pages-rate': true, mbps: true, 'dirty-sync-count': true, 'postcopy-requests': true, 'page-size': true,
  'multifd-bytes': true, 'pages-per-second': true, 'precopy-bytes': true, 'downtime-bytes': true, 'postcopy-bytes': true,
  'dirty-sync-missed-zero-copy': true,
};
const migrationInfoKeys: Record<keyof MigrationInfo, true> = {
  status: true, ram: true, 'xbzrle-cache': true, 'total-time': true, 'expected-downtime': true, downtime: true,
  'setup-time': true, 'cpu-throttle-percentage': true, 'error-desc': true, 'blocked-reasons': true, 'postcopy-blocktime': true,
  'postcopy-vcpu-blocktime': true, disk: true, vfio: true, compression: true, 'socket-address': true,
};
/** RAM statistics QEMU dropped, by the version that dropped them. */
const ramStatsRemoved: Array<{ key: keyof MigrationRamStats; major: number; minor: number }> = [{ key: 'skipped', major: 9, minor: 1 }];
const dimmKeys: Record<keyof PcDimmDeviceInfo, true> = { id: true, addr: true, size: true, slot: true, node: true, memdev: true, hotplugged: true, hotpluggable: true };

/** The typed map holds up against what the real QEMU returns (7.2 and 10.0; no guest needed). */
describe('QMP command types against a real QEMU', () => {
  let scope = new ResourceScope('qmp-commands-test');
  afterEach(async () => {
    const errors = await scope.dispose();
    scope = new ResourceScope('qmp-commands-test');
    expect(errors).toEqual([]);
  });

  async function connect(options: Parameters<typeof startQemu>[1]): Promise<QmpClient> {
    const { socket } = startQemu(scope, options);
    const client = await QmpClient.connect(socket, { timeoutMs: 10_000 });
    scope.register({ name: `qmp ${socket}`, kind: 'socket', dispose: () => client.close() });
    return client;
  }

  it('answers CPU, memory and configuration queries in the typed shapes', async () => {
    const qmp = await connect({ machine: 'q35,accel=tcg', extra: ['-smp', '1,maxcpus=2', '-m', '64M,slots=2,maxmem=256M'] });
    const cpus = await qmp.execute('query-cpus-fast');
    expect(cpus).toHaveLength(1);
    expect(cpus[0]).toMatchObject({ 'cpu-index': 0, target: 'x86_64', props: { 'socket-id': 0 } });
    const slots = await qmp.execute('query-hotpluggable-cpus');
    expect(slots).toHaveLength(2);
    expect(slots.filter((s) => s['qom-path'] === undefined)).toHaveLength(1); // the free slot
    expect(slots[0]).toMatchObject({ type: 'qemu64-x86_64-cpu', 'vcpus-count': 1 });

    await qmp.execute('object-add', { 'qom-type': 'memory-backend-ram', id: 'mem1', size: 128 * 1024 * 1024 });
    await qmp.execute('device_add', { driver: 'pc-dimm', id: 'dimm1', memdev: 'mem1' });
    const devices = await qmp.execute('query-memory-devices');
    expect(devices).toHaveLength(1);
    const [dimm] = devices;
    if (dimm?.type !== 'dimm') throw new Error(`expected a dimm, got ${JSON.stringify(dimm)}`);
    expect(Object.keys(dimm.data).sort()).toEqual(Object.keys(dimmKeys).sort());
    expect(dimm.data).toMatchObject({ id: 'dimm1', size: 128 * 1024 * 1024, memdev: '/objects/mem1', hotplugged: true });
    expect(await qmp.execute('query-memory-size-summary')).toEqual({ 'base-memory': 64 * 1024 * 1024, 'plugged-memory': 128 * 1024 * 1024 });

    expect(await qmp.execute('query-kvm')).toMatchObject({ enabled: false });
    const definitions = await qmp.execute('query-cpu-definitions');
    expect(definitions.map((d) => d.name)).toContain('Skylake-Client');
    const expansion = await qmp.execute('query-cpu-model-expansion', { type: 'full', model: { name: 'qemu64' } });
    expect(expansion.model.props).toMatchObject({ sse2: true });
    // `q35` is an alias of the newest versioned q35 machine type of the QEMU that runs.
    const { major, minor } = qmp.greeting.QMP.version.qemu;
    expect(await qmp.execute('qom-get', { path: '/machine', property: 'type' })).toBe(`pc-q35-${major}.${minor}-machine`);
    expect(await qmp.execute('human-monitor-command', { 'command-line': 'info status' })).toMatch(/prelaunch/);
    const capabilities = await qmp.execute('query-migrate-capabilities');
    expect(capabilities).toContainEqual({ capability: 'auto-converge', state: false });
    await qmp.execute('migrate-set-parameters', { 'downtime-limit': 123, 'max-bandwidth': 1 << 30 });
    expect(await qmp.execute('query-migrate-parameters')).toMatchObject({ 'downtime-limit': 123, 'max-bandwidth': 1 << 30 });
  });

  it('live-migrates a running machine and reports MigrationInfo with every typed RAM statistic', async () => {
    const dir = registeredTempDir(scope, 'bw-qmp-migrate-');
    const base = ['-m', '64M'];
    const destination = await connect({ machine: 'q35,accel=tcg', extra: [...base, '-incoming', 'defer'] });
    const source = await connect({ machine: 'q35,accel=tcg', extra: base });
    const uri = `unix:${join(dir, 'migrate.sock')}`;
    await destination.execute('migrate-set-capabilities', { capabilities: [{ capability: 'events', state: true }] });
    await source.execute('migrate-set-capabilities', { capabilities: [{ capability: 'events', state: true }] });
    await destination.execute('migrate-incoming', { uri });
    await source.execute('cont'); // firmware runs (and dirties pages) while RAM is copied
    const passes: number[] = [];
    source.on('event', (e) => e.event === 'MIGRATION_PASS' && passes.push(eventData(e, 'MIGRATION_PASS').pass));
    const completed = source.waitForEvent('MIGRATION', { match: { status: 'completed' }, timeoutMs: 30_000 });
    const arrived = destination.waitForEvent('MIGRATION', { match: { status: 'completed' }, timeoutMs: 30_000 });
    await source.execute('migrate', { uri });
    await Promise.all([completed, arrived]);
    const info = await source.execute('query-migrate');
    expect(info.status).toBe('completed');
    for (const key of Object.keys(info)) expect(migrationInfoKeys).toHaveProperty([key]);
    const { major, minor } = source.greeting.QMP.version.qemu;
    const removed = new Set(ramStatsRemoved.filter((r) => major > r.major || (major === r.major && minor >= r.minor)).map((r) => r.key));
    expect(Object.keys(info.ram ?? {}).sort()).toEqual(Object.keys(ramStatsKeys).filter((k) => !removed.has(k as keyof MigrationRamStats)).sort());
    expect(info.ram?.total).toBeGreaterThanOrEqual(64 * 1024 * 1024);
    expect(info.ram?.['dirty-sync-count']).toBeGreaterThanOrEqual(1);
    expect(typeof info['total-time']).toBe('number');
    expect(typeof info.downtime).toBe('number');
    expect(typeof info['setup-time']).toBe('number');
    expect(passes.length).toBeGreaterThanOrEqual(1);
    // Started with -S, the destination waits for `cont` rather than running on arrival.
    expect((await destination.execute('query-status')).status).toBe('paused');
    // The source's run state moves from finish-migrate to postmigrate in a bottom half after the
    // `completed` event: a query right after it can still see finish-migrate (seen under load).
    const sourceStatus = await pollUntil(() => source.execute('query-status'), (q) => q.status !== 'finish-migrate', { timeoutMs: 5_000, intervalMs: 10, what: 'the source to leave finish-migrate' });
    expect(sourceStatus.status).toBe('postmigrate');
    console.log(`migration of a running 64 MiB machine: total ${info['total-time']} ms, downtime ${info.downtime} ms, ${passes.length} pass(es)`);
  });
});
