import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { InfrastructureError } from '../../../core/errors.js';
import { pollUntil } from '../../../core/deadline.js';
import { metric, type Metrics } from '../../../model/metrics.js';
import type { ConsoleLine, Series } from '../../../model/result.js';
import type { MigrationCapabilityName, MigrationInfo } from '../../../qmp/commands.js';
import type { QmpClient } from '../../../qmp/client.js';
import type { MachineControls, MigrationOptions, MigrationReport } from '../../machine.js';
import { QemuInstance } from '../instance.js';
import type { QemuMachine } from '../machine.js';
import { HeartbeatWatch } from './heartbeat-gap.js';

let migrationCounter = 0;
const POLL_MS = 50;
/** QEMU's default 128 MiB/s never converges for a guest dirtying even 64 MB (QEMU-NOTES). */
const DEFAULT_BANDWIDTH = 10 * 1024 ** 3;
/**
 * With no downtime-limit from the matrix, start tight and relax while the migration has not
 * converged. QEMU stops the guest once the RAM left fits in measured bandwidth × limit: with its
 * default 300 ms and loopback's GB/s, a first pass slowed by a loaded host switched over with
 * hundreds of MB still to copy while the guest stood still (idle 512 MiB guest, load ~19: median
 * downtime 74 ms of 7 vs 6 ms at 5 ms; 467 ms seen in a soak). A guest that dirties too fast for a
 * tight limit still converges as before: the limit doubles every 500 ms up to QEMU's 300 ms.
 */
const DOWNTIME_STEPS_MS = [5, 10, 20, 40, 80, 160, 300] as const;
const DOWNTIME_STEP_EVERY_MS = 500;

/**
 * Live migration to a second QEMU on this host: the destination starts with `-incoming defer`,
 * replays every hot-plugged device, then both sides migrate over a unix socket (or tcp on
 * loopback). Downtime is measured twice: as QEMU reports it, and as the guest heartbeat was seen
 * from outside. A migration still running at its deadline is cancelled; the source keeps running.
 */
export function createMigrateControl(machine: QemuMachine): NonNullable<MachineControls['migrate']> {
  return {
    async migrate(options: MigrationOptions): Promise<MigrationReport> {
      const source = machine.instance;
      const origin = machine.origin;
      const started = performance.now();
      const n = ++migrationCounter;
      const destination = await QemuInstance.start({
        scope: machine.scope,
        lines: machine.output,
        name: `${machine.name}-dst${n}`,
        config: { ...machine.launch, incoming: 'defer' },
      });
      let handedOver = false;
      // Calls to the guest wait until the destination took over (or the migration ended without it).
      const reopen = machine.handover.begin();
      const watch = new HeartbeatWatch(machine.output);
      const panic = watchForPanic(machine);
      try {
        if (!options.skipDeviceReplay) {
          for (const record of machine.hotplugged) await destination.qmp.executeRaw(record.command, record.args);
          await sameLayout(source.qmp, destination.qmp);
        }
        await configure(source.qmp, destination.qmp, options);
        // Beats every 5 ms from here until the migration ends: the downtime's resolution.
        const paced = await machine.heartbeat.measure();
        const uri = options.transport === 'tcp' ? `tcp:127.0.0.1:${await freePort()}` : `unix:${join(destination.runDir, 'migrate.sock')}`;
        await destination.qmp.execute('migrate-incoming', { uri });
        const requested = performance.now();
        await source.qmp.execute('migrate', { uri });
        const accepted = performance.now();
        const series: Record<string, Series> = {
          throttle: { name: 'cpu throttle', unit: 'percent', points: [] },
          dirty: { name: 'dirty rate', unit: 'bytes/s', points: [] },
          remaining: { name: 'remaining RAM', unit: 'bytes', points: [] },
          transferred: { name: 'transferred RAM', unit: 'bytes', points: [] },
        };
        const deadline = requested + (options.timeoutMs ?? 60_000);
        const downtimeLimit = relaxingDowntimeLimit(source.qmp, options, requested);
        let info: MigrationInfo = {};
        let postcopyStarted = false;
        for (;;) {
          info = await source.qmp.execute('query-migrate');
          const t = performance.now() - origin;
          series.throttle!.points.push([t, info['cpu-throttle-percentage'] ?? 0]);
          if (info.ram) {
            series.dirty!.points.push([t, info.ram['dirty-pages-rate'] * (info.ram['page-size'] || 4096)]);
            series.remaining!.points.push([t, info.ram.remaining]);
            series.transferred!.points.push([t, info.ram.transferred]);
          }
          if (info.status === 'completed' || info.status === 'failed' || info.status === 'cancelled') break;
          if (options.postcopy && !postcopyStarted && info.status === 'active' && (info.ram?.['dirty-sync-count'] ?? 0) >= 2) {
            await source.qmp.execute('migrate-start-postcopy');
            postcopyStarted = true;
          }
          if (performance.now() > deadline) return await cancel(machine, source.qmp, destination, info, series, watch, started);
          if (info.status === 'active') await downtimeLimit.relax();
          await sleep(POLL_MS);
        }
        if (info.status !== 'completed') {
          throw new InfrastructureError('MIGRATION_FAILED', `live migration ${info.status}: ${info['error-desc'] ?? 'QEMU gave no reason'}`, { details: { info } });
        }
        const completedAt = performance.now();
        // The first `completed` answer can carry zeros (QEMU-NOTES): ask until the totals are in.
        info = await pollUntil(() => source.qmp.execute('query-migrate'), (i) => (i['total-time'] ?? 0) > 0, { timeoutMs: 2_000, intervalMs: 10, what: 'final migration statistics' }).catch(() => info);
        await Promise.race([destination.waitForAgent(30_000), panic.seen]);
        machine.adopt(destination);
        handedOver = true;
        await watch.nextBeat(2_000);
        const gap = watch.stop();
        panic.stop();
        await source.stop();
        const ram = info.ram;
        const metrics: Metrics = {
          total_ms: metric(info['total-time'] ?? completedAt - requested, 'ms'),
          setup_ms: metric(info['setup-time'] ?? 0, 'ms'),
          downtime_qemu_ms: metric(info.downtime ?? 0, 'ms'),
          downtime_heartbeat_ms: metric(gap.largestGapMs, 'ms'),
          ...(paced ? { heartbeat_interval_ms: metric(paced, 'ms') } : {}),
          heartbeat_missed_beats: metric(gap.missedBeats, 'count'),
          guest_monotonic_gap_ms: metric(gap.guestMonotonicGapMs, 'ms'),
          wall_ms: metric(completedAt - started, 'ms'),
          destination_setup_ms: metric(requested - started, 'ms'),
          expected_downtime_ms: metric(info['expected-downtime'] ?? 0, 'ms'),
          downtime_limit_ms: metric(downtimeLimit.current, 'ms'),
          ...(ram
            ? {
                transferred_bytes: metric(ram.transferred, 'bytes'),
                remaining_bytes: metric(ram.remaining, 'bytes'),
                duplicate_pages: metric(ram.duplicate, 'count'),
                normal_pages: metric(ram.normal, 'count'),
                passes: metric(ram['dirty-sync-count'], 'count'),
                throughput_bytes_per_s: metric((ram.mbps * 1e6) / 8, 'bytes/s'),
                dirty_rate_bytes_per_s: metric(ram['dirty-pages-rate'] * (ram['page-size'] || 4096), 'bytes/s'),
              }
            : {}),
          max_throttle_percent: metric(Math.max(0, ...series.throttle!.points.map((p) => p[1])), 'percent'),
        };
        return { status: 'completed', acknowledgedAt: accepted, metrics, series: Object.values(series), detail: { uri, postcopy: postcopyStarted, heartbeatBeats: gap.beats } };
      } catch (error) {
        watch.stop();
        panic.stop();
        if (!handedOver) await destination.stop().catch(() => undefined);
        throw error;
      } finally {
        machine.heartbeat.idle();
        reopen();
      }
    },
  };
}

async function configure(source: QmpClient, destination: QmpClient, options: MigrationOptions): Promise<void> {
  const capabilities: Array<{ capability: MigrationCapabilityName; state: boolean }> = [
    { capability: 'events', state: true },
    { capability: 'auto-converge', state: options.autoConverge ?? false },
    { capability: 'xbzrle', state: options.xbzrle ?? false },
    { capability: 'multifd', state: (options.multifd ?? 0) > 0 },
    { capability: 'postcopy-ram', state: options.postcopy ?? false },
  ];
  await source.execute('migrate-set-capabilities', { capabilities });
  await destination.execute('migrate-set-capabilities', { capabilities });
  await source.execute('migrate-set-parameters', {
    'max-bandwidth': options.maxBandwidthBytesPerSec ?? DEFAULT_BANDWIDTH,
    'downtime-limit': options.downtimeLimitMs ?? DOWNTIME_STEPS_MS[0],
    ...(options.multifd ? { 'multifd-channels': options.multifd } : {}),
  });
  if (options.multifd) await destination.execute('migrate-set-parameters', { 'multifd-channels': options.multifd });
}

/** The downtime limit in force; `relax` moves the harness default one step up when one is due. */
function relaxingDowntimeLimit(source: QmpClient, options: MigrationOptions, since: number): { readonly current: number; relax(): Promise<void> } {
  let step = 0;
  return {
    get current() {
      return options.downtimeLimitMs ?? DOWNTIME_STEPS_MS[step]!;
    },
    async relax() {
      if (options.downtimeLimitMs !== undefined || step === DOWNTIME_STEPS_MS.length - 1) return;
      if (performance.now() - since < (step + 1) * DOWNTIME_STEP_EVERY_MS) return;
      step++;
      await source.execute('migrate-set-parameters', { 'downtime-limit': DOWNTIME_STEPS_MS[step]! });
    },
  };
}

async function cancel(
  machine: QemuMachine,
  source: QmpClient,
  destination: QemuInstance,
  last: MigrationInfo,
  series: Record<string, Series>,
  watch: HeartbeatWatch,
  started: number,
): Promise<MigrationReport> {
  await source.execute('migrate_cancel');
  await pollUntil(() => source.execute('query-migrate'), (i) => i.status === 'cancelled' || i.status === 'failed' || i.status === 'completed', {
    timeoutMs: 15_000,
    intervalMs: 20,
    what: 'the migration to be cancelled',
  });
  await destination.stop().catch(() => undefined);
  watch.stop();
  // The source must still be running and answering.
  await machine.agent.ping({ timeoutMs: 10_000 });
  const ram = last.ram;
  const dirtyRate = await dirtyRateOf(source, last);
  return {
    status: 'cancelled',
    acknowledgedAt: performance.now(),
    metrics: {
      wall_ms: metric(performance.now() - started, 'ms'),
      dirty_rate_bytes_per_s: metric(dirtyRate.bytesPerSec, 'bytes/s'),
      expected_downtime_ms: metric(last['expected-downtime'] ?? 0, 'ms'),
      remaining_bytes: metric(ram?.remaining ?? 0, 'bytes'),
      passes: metric(ram?.['dirty-sync-count'] ?? 0, 'count'),
      max_throttle_percent: metric(Math.max(0, ...series.throttle!.points.map((p) => p[1])), 'percent'),
    },
    series: Object.values(series),
    detail: { reason: 'did not converge before its deadline; cancelled, the source keeps running', dirtyRateFrom: dirtyRate.from },
  };
}

/**
 * A guest that panics on the destination fails the migration at once with the kernel's words,
 * instead of after the agent's 30 s deadline. (QEMU 7.2 under TCG intermittently corrupts a guest
 * with more than one vCPU across migration: 4 of 8 runs of a 2-vCPU guest with a shell loop, after a
 * vCPU plug and a balloon; idle or single-vCPU guests migrated every time in these tests.)
 */
function watchForPanic(machine: QemuMachine): { seen: Promise<never>; stop(): void } {
  const recent: string[] = [];
  let listener!: (line: ConsoleLine) => void;
  const seen = new Promise<never>((_, reject) => {
    listener = (line) => {
      if (line.source !== 'console') return;
      recent.push(line.text);
      if (recent.length > 40) recent.shift();
      if (/Kernel panic - not syncing/.test(line.text)) {
        const first = recent.find((text) => /BUG:|Oops|general protection/.test(text)) ?? line.text;
        reject(new InfrastructureError('GUEST_PANICKED_AFTER_MIGRATION', `the guest panicked on the migration destination: ${first.trim()} … ${line.text.trim()}`));
      }
    };
  });
  seen.catch(() => undefined);
  machine.output.on('line', listener);
  return { seen, stop: () => void machine.output.removeListener('line', listener) };
}

/**
 * The destination must have the source's memory layout before the RAM arrives: compare the DIMMs
 * (id, address, size) on both sides, so a replay that placed one elsewhere fails here with both
 * layouts instead of corrupting the guest after the switch-over.
 */
async function sameLayout(source: QmpClient, destination: QmpClient): Promise<void> {
  const layout = async (qmp: QmpClient) =>
    (await qmp.execute('query-memory-devices'))
      .map((d) => ('addr' in d.data ? `${d.data.id ?? '?'}@0x${d.data.addr.toString(16)}+${d.data.size}` : `${d.data.id ?? '?'}:${d.type}`))
      .sort()
      .join(', ');
  const [here, there] = await Promise.all([layout(source), layout(destination)]);
  if (here !== there) {
    throw new InfrastructureError('MIGRATION_LAYOUT_MISMATCH', `the migration destination's memory devices differ from the source's after replay: source [${here}], destination [${there}]`);
  }
}

/**
 * The guest's dirty rate: QEMU's own from the migration once a pass has finished; before that
 * (a bandwidth so low the first pass never ends) `dirty-pages-rate` is still 0, so it is measured
 * for a second with `calc-dirty-rate` on the source (QEMU >= 5.2, reported in MiB/s).
 */
async function dirtyRateOf(source: QmpClient, last: MigrationInfo): Promise<{ bytesPerSec: number; from: string }> {
  const ram = last.ram;
  const fromMigration = ram ? ram['dirty-pages-rate'] * (ram['page-size'] || 4096) : 0;
  if (fromMigration > 0) return { bytesPerSec: fromMigration, from: 'query-migrate dirty-pages-rate' };
  try {
    await source.executeRaw('calc-dirty-rate', { 'calc-time': 1 });
    const measured = (await pollUntil(
      () => source.executeRaw('query-dirty-rate') as Promise<{ status: string; 'dirty-rate'?: number }>,
      (r) => r.status === 'measured',
      { timeoutMs: 5_000, intervalMs: 100, what: 'calc-dirty-rate to finish' },
    )) as { 'dirty-rate'?: number };
    return { bytesPerSec: (measured['dirty-rate'] ?? 0) * 1024 * 1024, from: 'calc-dirty-rate over 1 s (no migration pass had finished)' };
  } catch {
    return { bytesPerSec: 0, from: 'unknown: no migration pass finished and calc-dirty-rate failed' };
  }
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
