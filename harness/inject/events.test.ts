import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResourceScope } from '../core/scope.js';
import { DEFAULT_MACHINE } from '../model/machine-spec.js';
import type { EventRecord } from '../model/result.js';
import type { TimelineEvent } from '../model/cell.js';
import { startQemuMachine, type QemuMachine } from '../machines/qemu/machine.js';
import { onlineCpus, memInfo } from '../machines/guest-view.js';
import { runTimeline, unsupportedEvent } from './timeline.js';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeCachePath, probeCpuDeviceDel } from '../machines/qemu/controls/cpu-unplug-probe.js';
import { qemuVersion } from '../machines/qemu/binary.js';
import { hasKnownProblem } from '../machines/qemu/known-problems.js';

/** Retries that exist only for QEMU 7.2's multi-vCPU migration corruption under TCG (docs/qemu-versions.md). */
const migrationMayCorrupt = hasKnownProblem(await qemuVersion(), 'multi-vcpu-migration-corruption');

const at = (afterMs: number, kind: string, params: Record<string, unknown> = {}): TimelineEvent => ({ kind, trigger: { kind: 'at', afterMs }, params });

async function timeline(machine: QemuMachine, events: TimelineEvent[]): Promise<EventRecord[]> {
  return runTimeline({ machine, events, appStartedAt: performance.now(), signal: new AbortController().signal, onRecord: async () => undefined });
}

function ok(record: EventRecord | undefined): EventRecord {
  expect(record?.error?.message ?? 'no error').toBe('no error');
  expect(record!.outcome).toBe('ok');
  return record!;
}

/** One real guest goes through every QEMU event; the records say when each was requested, acknowledged and seen. */
describe('mid-test events on a real QEMU guest', () => {
  const scope = new ResourceScope('events-test');
  let machine: QemuMachine;

  beforeAll(async () => {
    machine = await startQemuMachine(
      { ...DEFAULT_MACHINE, cpuModel: 'max', vcpus: 1, maxVcpus: 3, memoryMiB: 512, maxMemoryMiB: 1024, memorySlots: 2 },
      { scope, name: 'events' },
    );
  });
  afterAll(() => scope.dispose());

  it('plugs a vCPU (requested → acknowledged → seen by the guest) and offlines one', async () => {
    const [plug, unplug] = await timeline(machine, [at(0, 'cpu-plug'), at(0, 'cpu-unplug')]);
    ok(plug);
    expect(plug!.acknowledgedAtMs!).toBeGreaterThanOrEqual(plug!.requestedAtMs);
    expect(plug!.observedAtMs!).toBeGreaterThanOrEqual(plug!.acknowledgedAtMs!);
    expect(plug!.metrics.cpus_after!.value).toBe(2);
    console.log(`cpu-plug: ack ${(plug!.acknowledgedAtMs! - plug!.requestedAtMs).toFixed(0)} ms, seen ${(plug!.observedAtMs! - plug!.requestedAtMs).toFixed(0)} ms`);
    ok(unplug);
    expect(unplug!.metrics.cpus_after!.value).toBe(1);
    expect(await onlineCpus(machine)).toBe(1);
    const step = (unplug!.detail!.steps as Array<{ method: string; why: string }>)[0]!;
    expect(step.why).toMatch(/device_del probe on QEMU \d+\.\d+\.\d+/);
    console.log(`cpu-unplug: ${step.method} (${step.why})`);
    const [again] = await timeline(machine, [at(0, 'cpu-plug')]);
    ok(again);
  });

  it('probes vCPU device_del once per QEMU version and caches the answer on disk', async () => {
    const root = await mkdtemp(join(tmpdir(), 'bw-probe-'));
    scope.registerTempDir(root);
    const started = performance.now();
    const answer = await probeCpuDeviceDel(machine, { cacheRoot: root });
    const probeMs = performance.now() - started;
    const { qemu } = machine.qmp.greeting.QMP.version;
    const file = probeCachePath(`${answer.qemu}-${answer.accel}`, root);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(answer);
    // QEMU-NOTES: 7.2 under TCG ejects the CPU, then crashes on the next plug.
    if (qemu.major === 7 && qemu.minor === 2 && machine.accel === 'tcg') expect(answer.works).toBe(false);
    expect(answer.detail).toMatch(/device_del bwcpu\d+/);
    const again = performance.now();
    expect(await probeCpuDeviceDel(machine, { cacheRoot: root })).toEqual(answer);
    expect(performance.now() - again).toBeLessThan(100);
    console.log(`cpu device_del probe: works=${answer.works} in ${probeMs.toFixed(0)} ms: ${answer.detail}`);
  });

  it('hot-plugs memory and ballons down and back up', async () => {
    const [plug, unplug, replug] = await timeline(machine, [at(0, 'mem-plug', { size: '128M' }), at(0, 'mem-unplug'), at(0, 'mem-plug', { size: '128M' })]);
    ok(plug);
    expect(plug!.metrics.memtotal_after_kib!.value - plug!.metrics.memtotal_before_kib!.value).toBeGreaterThan(100 * 1024);
    console.log(`mem-plug: ack ${(plug!.acknowledgedAtMs! - plug!.requestedAtMs).toFixed(0)} ms, seen ${(plug!.observedAtMs! - plug!.requestedAtMs).toFixed(0)} ms`);
    // Unplug is attempted; a guest that cannot give the memory back says so with its reason.
    if (unplug!.outcome === 'ok') expect(unplug!.metrics.memtotal_after_kib!.value).toBeLessThan(unplug!.metrics.memtotal_before_kib!.value);
    else expect(unplug!.error).toMatchObject({ code: 'DIMM_UNPLUG_REFUSED', message: expect.stringMatching(/bwdimm\d+/) });
    console.log(`mem-unplug: ${unplug!.outcome} ${unplug!.error?.message ?? `in ${unplug!.metrics.unplug_ms?.value.toFixed(0)} ms`}`);
    ok(replug);
    const [down, up] = await timeline(machine, [at(0, 'balloon', { target: '50%' }), at(0, 'balloon', { target: '100%' })]);
    ok(down);
    expect(down!.metrics.memavailable_after_kib!.value).toBeLessThan(down!.metrics.memavailable_before_kib!.value);
    expect(down!.detail).toMatchObject({ memTotalKiBBefore: expect.any(Number), memAvailableKiBAfter: expect.any(Number) });
    ok(up);
    expect(up!.metrics.memavailable_after_kib!.value).toBeGreaterThan(down!.metrics.memavailable_after_kib!.value);
    console.log(`balloon 50%: ${down!.metrics.balloon_ms!.value.toFixed(0)} ms; back: ${up!.metrics.balloon_ms!.value.toFixed(0)} ms`);
  });

  it('pauses (the guest clock falls behind) and corrects the clock', async () => {
    const [paused, corrected] = await timeline(machine, [at(0, 'pause', { duration: '2s' }), at(0, 'clock-correct')]);
    ok(paused);
    expect(paused!.metrics.paused_ms!.value).toBeGreaterThanOrEqual(1_900);
    // The guest's monotonic clock keeps going after the resume and never runs ahead of the host's.
    expect(paused!.metrics.guest_monotonic_advance_ms!.value).toBeGreaterThan(0);
    expect(paused!.metrics.guest_monotonic_advance_ms!.value).toBeLessThanOrEqual(paused!.metrics.host_elapsed_ms!.value + 20);
    console.log(`pause: ${paused!.metrics.paused_ms!.value.toFixed(0)} ms; guest monotonic +${paused!.metrics.guest_monotonic_advance_ms!.value.toFixed(0)} ms over host ${paused!.metrics.host_elapsed_ms!.value.toFixed(0)} ms; drift before correction ${corrected!.metrics.drift_before_ms!.value.toFixed(0)} ms`);
    expect(corrected!.metrics.drift_before_ms!.value).toBeLessThan(-1_500);
    ok(corrected);
    expect(Math.abs(corrected!.metrics.drift_after_ms!.value)).toBeLessThan(500);
  });

  // QEMU 7.2 under TCG corrupts a guest with several vCPUs in some live migrations (the destination
  // panics; measured 1 in 5 to 4 in 8 depending on load, docs/events.md). This test keeps two vCPUs
  // on purpose — replaying a hot-plugged vCPU is the point — so it boots its own guest and, on 7.2
  // only, vitest retries it; a panic is reported as GUEST_PANICKED_AFTER_MIGRATION, never as a pass.
  it('live-migrates after hot-plug (vCPU and DIMM replayed), measuring downtime twice, and the source is gone', { retry: migrationMayCorrupt ? 2 : 0 }, async () => {
    const own = scope.child(`migrate-${Date.now()}`);
    try {
      const guest = await startQemuMachine(
        { ...DEFAULT_MACHINE, cpuModel: 'max', vcpus: 1, maxVcpus: 2, memoryMiB: 512, maxMemoryMiB: 1024, memorySlots: 2 },
        { scope: own, name: 'migrate-after-plug' },
      );
      const [plug, dimm] = await timeline(guest, [at(0, 'cpu-plug'), at(0, 'mem-plug', { size: '128M' })]);
      ok(plug);
      ok(dimm);
      const sourcePid = guest.instance.process.pid;
      const cpusBefore = await onlineCpus(guest);
      const memBefore = (await memInfo(guest)).totalKiB;
      const [migration] = await timeline(guest, [at(0, 'migrate', { 'max-bandwidth': '10G' })]);
      if (migration!.outcome !== 'ok') console.log(guest.output.lines.filter((l) => l.source !== 'heartbeat').slice(-15).map((l) => `${l.source} ${l.text}`).join('\n'));
      ok(migration);
      expect(guest.instance.process.pid).not.toBe(sourcePid);
      expect(() => process.kill(sourcePid, 0)).toThrow();
      expect(await onlineCpus(guest)).toBe(cpusBefore);
      expect((await memInfo(guest)).totalKiB).toBe(memBefore);
      const m = migration!.metrics;
      expect(m.downtime_qemu_ms!.value).toBeGreaterThanOrEqual(0);
      expect(m.downtime_heartbeat_ms!.value).toBeGreaterThan(0);
      // The heartbeat beat every 5 ms while measured (the guest acknowledged the pace).
      expect(m.heartbeat_interval_ms?.value).toBe(5);
      expect(m.total_ms!.value).toBeGreaterThan(0);
      console.log(`migration: total ${m.total_ms!.value} ms, downtime QEMU ${m.downtime_qemu_ms!.value} ms, heartbeat gap ${m.downtime_heartbeat_ms!.value.toFixed(0)} ms`);
    } finally {
      await own.dispose();
    }
  });

  it('cancels a migration that cannot converge and keeps the source running', async () => {
    await machine.spawn(['bw-dirty-mem', '--mib', '96']);
    await machine.output.waitForLine(/dirty-mem ready/, 30_000, 'app');
    const sourcePid = machine.instance.process.pid;
    const [migration] = await timeline(machine, [at(0, 'migrate', { 'max-bandwidth': '1M', timeout: '3s' })]);
    expect(migration!.outcome).toBe('error');
    expect(migration!.error!.code).toBe('MIGRATION_NOT_CONVERGED');
    // bw-dirty-mem rewrites 96 MiB in a loop: the reported dirty rate must show it.
    expect(migration!.metrics.dirty_rate_bytes_per_s!.value).toBeGreaterThan(1024 * 1024);
    expect(migration!.error!.message).toMatch(/did not converge within 3000 ms and was cancelled \(dirty rate \d+ MiB\/s, expected downtime \d+ ms\)/);
    console.log(`non-convergence: ${migration!.error!.message}`);
    expect(machine.instance.process.pid).toBe(sourcePid);
    expect((await machine.exec(['true'])).exitCode).toBe(0);
  });

  it('skips an event the machine cannot do, with the reason', () => {
    const noPlug = { ...machine, controls: { ...machine.controls, cpus: undefined, unsupportedReason: { cpus: 'vCPU hot-plug needs maxvcpus > vcpus' } } } as unknown as QemuMachine;
    expect(unsupportedEvent(noPlug, [at(0, 'cpu-plug')])).toEqual({ event: 'cpu-plug', reason: 'vCPU hot-plug needs maxvcpus > vcpus' });
  });
});

describe('timeline triggers', () => {
  const scope = new ResourceScope('triggers-test');
  let machine: QemuMachine;
  beforeAll(async () => {
    machine = await startQemuMachine({ ...DEFAULT_MACHINE, vcpus: 1, maxVcpus: 1 }, { scope, name: 'triggers' });
  });
  afterAll(() => scope.dispose());

  it('fires on an application line, repeats, and skips an event whose line never comes', async () => {
    const started = performance.now();
    const running = runTimeline({
      machine,
      events: [
        { kind: 'clock-correct', trigger: { kind: 'line', pattern: 'app is ready', source: 'app' }, repeat: { count: 1, everyMs: 300 }, params: {} },
        { kind: 'clock-correct', trigger: { kind: 'line', pattern: 'never printed', source: 'app' }, params: {} },
      ],
      appStartedAt: started,
      signal: new AbortController().signal,
      onRecord: async () => undefined,
      triggerTimeoutMs: 3_000,
    });
    await machine.spawn(['/bin/sh', '-c', 'sleep 0.5; echo app is ready']);
    const records = await running;
    const fired = records.filter((r) => r.outcome === 'ok');
    expect(fired).toHaveLength(2);
    expect(fired[1]!.requestedAtMs - fired[0]!.requestedAtMs).toBeGreaterThanOrEqual(290);
    const line = machine.output.lines.find((l) => l.text === 'app is ready')!;
    expect(fired[0]!.requestedAtMs).toBeGreaterThanOrEqual(line.t);
    expect(records.find((r) => r.outcome === 'skipped')!.reason).toMatch(/never came/);
  });

  it('migrates over tcp with postcopy while a program dirties memory', async () => {
    await machine.spawn(['bw-dirty-mem', '--mib', '64']);
    await machine.output.waitForLine(/dirty-mem ready/, 30_000, 'app');
    const sourcePid = machine.instance.process.pid;
    const [migration] = await timeline(machine, [at(0, 'migrate', { transport: 'tcp', postcopy: true, 'max-bandwidth': '64M' })]);
    ok(migration);
    expect(migration!.detail).toMatchObject({ uri: expect.stringMatching(/^tcp:127\.0\.0\.1:\d+$/), postcopy: true });
    expect(() => process.kill(sourcePid, 0)).toThrow();
    expect(migration!.series!.find((s) => s.name === 'transferred RAM')!.points.length).toBeGreaterThan(0);
    const m = migration!.metrics;
    console.log(`postcopy over tcp, 64 MiB dirtied: total ${m.total_ms!.value} ms, downtime QEMU ${m.downtime_qemu_ms!.value} ms, heartbeat gap ${m.downtime_heartbeat_ms!.value.toFixed(0)} ms`);
  });
});

/** The demo application across events: what a user's cell sees. */
describe('the demo application across events', () => {
  const scope = new ResourceScope('demo-events-test');
  let machine: QemuMachine;
  beforeAll(async () => {
    machine = await startQemuMachine(
      { ...DEFAULT_MACHINE, cpuModel: 'max', vcpus: 1, maxVcpus: 3, memoryMiB: 512, maxMemoryMiB: 1024, memorySlots: 2 },
      { scope, name: 'demo-events' },
    );
    await machine.spawn(['demo-server', '--adaptive', '--socket', '/run/demo.sock']);
    await machine.output.waitForLine(/demo-server ready workers=1/, 30_000, 'app');
  });
  afterAll(() => scope.dispose());

  it('migrates a guest dirtying memory: both downtimes recorded, the application alive on the destination', async () => {
    // One vCPU: a multi-vCPU TCG guest that dirties memory hangs or panics after migration on QEMU
    // 7.2 (measured: 2 and 3 vCPUs, 64 MiB dirtied; an idle multi-vCPU guest migrates fine).
    const dirty = await machine.spawn(['bw-dirty-mem', '--mib', '64']);
    await machine.output.waitForLine(/dirty-mem ready/, 30_000, 'app');
    const [migration] = await timeline(machine, [at(0, 'migrate')]);
    ok(migration);
    expect(migration!.metrics.downtime_qemu_ms!.value).toBeGreaterThan(0);
    expect(migration!.metrics.downtime_heartbeat_ms!.value).toBeGreaterThan(0);
    // No downtime-limit given: the harness starts at 5 ms and relaxes toward QEMU's 300 ms, so a dirtying guest still converges.
    expect(migration!.metrics.downtime_limit_ms!.value).toBeGreaterThanOrEqual(5);
    expect(migration!.metrics.downtime_limit_ms!.value).toBeLessThanOrEqual(300);
    expect((await machine.exec(['demo-server', '--health', '--socket', '/run/demo.sock'])).stdout).toMatch(/^ok workers=1/);
    await dirty.kill('KILL');
  });

  it('plugs 1→3 vCPUs mid-run and the application sees 3 online CPUs', async () => {
    const [plug] = await timeline(machine, [at(0, 'cpu-plug', { count: 2 })]);
    ok(plug);
    expect(plug!.metrics.cpus_after!.value).toBe(3);
    await machine.output.waitForLine(/demo-server resized workers=3 cpus=3/, 10_000, 'app');
  });

  it('plugs and unplugs memory (the guest onlines it movable, so it comes back out)', async () => {
    const [plug, unplug] = await timeline(machine, [at(0, 'mem-plug', { size: '128M' }), at(0, 'mem-unplug')]);
    ok(plug);
    ok(unplug);
    expect(unplug!.metrics.memtotal_after_kib!.value).toBe(plug!.metrics.memtotal_before_kib!.value);
  });

  it('fails cleanly when the destination lacks a hot-plugged DIMM, and the source survives', async () => {
    await machine.controls.memory!.plug(128);
    const sourcePid = machine.instance.process.pid;
    const error = await machine.controls.migrate!.migrate({ skipDeviceReplay: true, timeoutMs: 30_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/migration failed|ramblock|MIGRATION/i);
    expect(machine.instance.process.pid).toBe(sourcePid);
    expect((await machine.exec(['demo-server', '--health', '--socket', '/run/demo.sock'])).exitCode).toBe(0);
  });
});
