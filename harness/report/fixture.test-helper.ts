import { Writable } from 'node:stream';
import type { CellResult, ConsoleLine } from '../model/result.js';
import type { RunRecord } from './run-record.js';

const FLAGS_NEHALEM = ['fpu', 'sse4_2', 'popcnt', 'hypervisor', 'x2apic'];
const FLAGS_SANDYBRIDGE = ['fpu', 'sse4_2', 'popcnt', 'hypervisor', 'x2apic', 'avx', 'aes'];
const FLAGS_HOST = ['fpu', 'sse4_2', 'popcnt', 'avx', 'avx2', 'aes', 'vmx', 'arch_perfmon', 'constant_tsc'];

/** Heartbeat lines every 50 ms with one gap (a migration's downtime) between `gapFrom` and `gapTo`. */
function heartbeats(fromMs: number, toMs: number, gapFrom: number, gapTo: number): ConsoleLine[] {
  const lines: ConsoleLine[] = [];
  let seq = 0;
  for (let t = fromMs; t <= toMs; t += 50) {
    seq++;
    if (t > gapFrom && t < gapTo) continue;
    lines.push({ t, source: 'heartbeat', text: `hb ${seq} ${t * 1e6} 0` });
  }
  return lines;
}

export function fixtureCell(overrides: Partial<CellResult> & { id: string }): CellResult {
  return {
    axes: { backend: 'qemu', cpu: 'Nehalem', vcpus: 1 },
    backend: 'qemu',
    outcome: 'passed',
    attempts: [{ outcome: 'passed', durationMs: 1000 }],
    startedAt: '2026-11-25T00:00:00.000Z',
    durationMs: 4000,
    metrics: { boot_ms: { value: 1700, unit: 'ms' }, app_ms: { value: 2000, unit: 'ms' } },
    accel: 'tcg',
    facts: { cpuModelName: 'Intel Core i7 9xx (Nehalem Class Core i7)', cpuFlags: FLAGS_NEHALEM, onlineCpus: 1, presentCpus: 1, memTotalKiB: 400_000, memAvailableKiB: 350_000, clocksource: 'tsc', availableClocksources: ['tsc', 'hpet', 'acpi_pm'], kernelRelease: '6.1.0', pmu: { cycles: false, instructions: false } },
    suites: [],
    events: [],
    log: [],
    ...overrides,
  };
}

/**
 * A realistic run: every outcome, events with series and a heartbeat gap, two suites in one cell,
 * a physical cell next to VM cells, different CPU models, and hostile strings (markup, quotes,
 * terminal escapes, a CDATA terminator) where a guest or a matrix could put them.
 */
export function fixtureRecord(): RunRecord {
  const record: RunRecord = {
    schema: 'bothworlds/run@1',
    runId: 'r1',
    startedAt: '2026-11-25T00:00:00.000Z',
    finishedAt: '2026-11-25T00:05:00.000Z',
    matrix: { name: 'fixture', path: '/tmp/fixture.yaml', hash: 'a'.repeat(64) },
    environment: { hostCpuModel: 'Test CPU', hostCpuFlags: FLAGS_HOST, hostKernel: '6.18', hostOs: 'Debian 12', qemuVersion: 'QEMU emulator version 7.2.22', kvm: { usable: false, reason: 'probe hung' }, nodeVersion: 'v20', harnessVersion: '0.1.0', cores: 2, memoryMiB: 24000 },
    cellIds: [],
    interrupted: false,
    cells: [
      fixtureCell({
        id: 'qemu-nehalem-vcpus1-aaaaaa',
        events: [
          { kind: 'cpu-plug', label: 'cpu-plug', outcome: 'ok', requestedAtMs: 2000, acknowledgedAtMs: 2030, observedAtMs: 2300, durationMs: 300, metrics: { ack_ms: { value: 30, unit: 'ms' }, cpus_after: { value: 2, unit: 'count' } } },
          {
            kind: 'migrate', label: 'migrate', outcome: 'ok', requestedAtMs: 2600, acknowledgedAtMs: 3500, observedAtMs: 3600, durationMs: 1000,
            metrics: { downtime_qemu_ms: { value: 12, unit: 'ms' }, downtime_heartbeat_ms: { value: 400, unit: 'ms' } },
            series: [
              { name: 'throttle', unit: 'percent', points: [[2600, 0], [2900, 20], [3200, 40], [3500, 40]] },
              { name: 'dirty', unit: 'bytes/s', points: [[2600, 8e6], [2900, 12e6], [3200, 6e6], [3500, 2e6]] },
            ],
          },
        ],
        suites: [
          { suite: 'hotplug-awareness', outcome: 'passed', checks: [{ name: 'workers follow vCPUs', outcome: 'passed', message: 'app went 1→2 workers' }], metrics: {}, durationMs: 500 },
          { suite: 'migration', outcome: 'passed', checks: [{ name: 'requests survive', outcome: 'passed', message: 'no request failed during migration' }], metrics: { lost_requests: { value: 0, unit: 'count' } }, durationMs: 800 },
        ],
        log: [{ t: 10, source: 'console', text: 'bothworlds: init <script>alert(1)</script>' }, { t: 1800, source: 'app', text: 'listening on :8080' }, ...heartbeats(1800, 4000, 3100, 3500)],
      }),
      fixtureCell({
        id: 'qemu-sandybridge-vcpus1-bbbbbb',
        axes: { backend: 'qemu', cpu: 'SandyBridge', vcpus: 1 },
        outcome: 'failed',
        reason: 'hotplug-awareness: app kept 1 worker threads after vCPUs went 1→2',
        facts: { ...fixtureCell({ id: 'x' }).facts!, cpuModelName: 'Intel Xeon E312xx (Sandy Bridge)', cpuFlags: FLAGS_SANDYBRIDGE },
        suites: [
          { suite: 'hotplug-awareness', outcome: 'failed', reason: 'workers', checks: [{ name: 'workers follow vCPUs', outcome: 'failed', message: 'app kept 1 worker threads after vCPUs went 1→2 \u001b[31m]]> <b>' }], metrics: {}, durationMs: 500 },
          { suite: 'migration', outcome: 'passed', checks: [], metrics: {}, durationMs: 800 },
        ],
      }),
      fixtureCell({ id: 'qemu-max-vcpus1-cccccc', axes: { backend: 'qemu', cpu: 'max', vcpus: 1 }, outcome: 'error', reason: 'QEMU exited', error: { code: 'QEMU_EXITED', category: 'infrastructure', message: 'QEMU killed by SIGKILL' }, attempts: [{ outcome: 'error', reason: 'QEMU exited', durationMs: 900 }, { outcome: 'error', reason: 'QEMU exited', durationMs: 950 }], facts: undefined }),
      fixtureCell({ id: 'qemu-host-passthrough-vcpus1-dddddd', axes: { backend: 'qemu', cpu: 'host-passthrough', vcpus: 1 }, outcome: 'skipped', reason: "CPU model 'host-passthrough' requires KVM", facts: undefined, metrics: {} }),
      fixtureCell({ id: 'qemu-nehalem-vcpus2-ffffff', axes: { backend: 'qemu', cpu: 'Nehalem', vcpus: 2 }, outcome: 'interrupted', reason: 'SIGINT while the app ran' }),
      fixtureCell({
        id: 'local-"quoted"-eeeeee',
        axes: { backend: 'local', cpu: 'host"><b>x</b>', vcpus: 2 },
        backend: 'local',
        accel: 'none',
        metrics: { boot_ms: { value: 5, unit: 'ms' }, app_ms: { value: 900, unit: 'ms' } },
        facts: { cpuModelName: 'Test CPU', cpuFlags: FLAGS_HOST, onlineCpus: 2, presentCpus: 2, memTotalKiB: 24_000_000, memAvailableKiB: 20_000_000, clocksource: 'kvm-clock', availableClocksources: ['kvm-clock', 'tsc'], kernelRelease: '6.18', pmu: { cycles: true, instructions: true } },
      }),
    ],
  };
  record.cellIds = [...record.cells.map((c) => c.id), 'qemu-sandybridge-vcpus2-gggggg'];
  return record;
}

/** A stream that records what was written, and says whether it is a terminal (progress tests). */
export function captureStream(isTTY: boolean, columns = 200): { stream: NodeJS.WriteStream; text(): string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  }) as unknown as NodeJS.WriteStream;
  Object.assign(stream, { isTTY, columns });
  return { stream, text: () => chunks.join('') };
}
