import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { at, defineCell, onLine, runOneCell } from '../harness/programmatic.js';
import type { Backend } from '../harness/model/machine-spec.js';
import type { CellResult } from '../harness/model/result.js';
import type { RunRecord } from '../harness/report/run-record.js';
import { onlyRunDir, readJson, runCli, workspace } from './cli-helpers.js';

/**
 * Green means tested: the application is followed onto the migration destination, so every event
 * after a migration runs against it; anything asked and not done keeps a cell from `passed`.
 */

/** The scenario users chain: migrate, then plug, then balloon, then migrate again. */
function chainedCell(backend: Backend): ReturnType<typeof defineCell> {
  return defineCell({
    backend,
    machine: { cpuModel: 'Nehalem', vcpus: 1, maxVcpus: 3, memoryMiB: 512, maxMemoryMiB: 1024, memorySlots: 4 },
    app: { command: ['demo-server', '--adaptive'], files: ['@tools/demo-server'], service: true, readyPattern: 'demo-server ready', health: ['demo-server', '--health'] },
    events: [
      onLine('demo-server ready', 'migrate'),
      at(6_000, 'cpu-plug', { count: 1 }),
      at(8_000, 'balloon', { target: '50%' }),
      at(10_000, 'migrate'),
    ],
    timeoutMs: 180_000,
  });
}

function expectChainDone(result: CellResult): void {
  const summary = result.events.map((e) => `${e.label}: ${e.outcome} ${e.reason ?? e.error?.message ?? ''}`).join('\n');
  expect(result.outcome, `${result.reason}\n${summary}`).toBe('passed');
  expect(result.events.map((e) => [e.kind, e.outcome])).toEqual([
    ['migrate', 'ok'],
    ['cpu-plug', 'ok'],
    ['balloon', 'ok'],
    ['migrate', 'ok'],
  ]);
  // The app on the destination saw the plugged vCPU, and the cell ran past the last trigger.
  const app = result.log.filter((l) => l.source === 'app').map((l) => l.text);
  expect(app.some((l) => /resized workers=2 cpus=2/.test(l)), app.join('\n')).toBe(true);
  const lastMigration = result.events[3]!;
  expect(lastMigration.requestedAtMs).toBeGreaterThan(10_000);
  expect(result.durationMs).toBeGreaterThan(10_000);
  // Both migrations measured their downtime from outside.
  for (const migration of [result.events[0]!, lastMigration]) expect(migration.metrics.downtime_heartbeat_ms?.value).toBeGreaterThan(0);
}

describe('events after a live migration', () => {
  it('QEMU: migrate, plug, balloon, migrate again: every event ok against the destination', async () => {
    expectChainDone(await runOneCell(chainedCell('qemu'), { snapshots: true }));
  });

  it('libvirt: the same chain between two libvirtds, there and back', async () => {
    expectChainDone(await runOneCell(chainedCell('libvirt')));
  });

  it('a run-to-exit application is followed too: its exit status comes from the destination', async () => {
    const cell = defineCell({
      machine: { cpuModel: 'Nehalem', vcpus: 1, maxVcpus: 2, memoryMiB: 384 },
      app: { command: ['sh', '-c', 'for i in 1 2 3 4 5 6 7; do echo tick $i $(nproc); sleep 1; done; exit 3'], expectExit: 3, timeoutMs: 60_000 },
      events: [onLine('tick 1', 'migrate'), at(4_000, 'cpu-plug')],
    });
    const result = await runOneCell(cell, { snapshots: true });
    expect(result.events.map((e) => `${e.kind} ${e.outcome} ${e.reason ?? ''}`)).toEqual(['migrate ok ', 'cpu-plug ok ']);
    expect(result.outcome, result.reason).toBe('passed');
    const ticks = result.log.filter((l) => l.source === 'app' && /^tick/.test(l.text)).map((l) => l.text);
    expect(ticks.at(-1)).toBe('tick 7 2');
  });
});

describe('a cell that did not do everything it asked', () => {
  it('is incomplete (exit 4, JUnit error of type incomplete, every report) unless the event is optional', async () => {
    const ws = workspace(
      (tag) => `name: incomplete
app: {command: [sh, -c, 'echo started; sleep 2'], timeout: 30s}
defaults: {cpu: Nehalem, memory: 384M, run: "${tag}"}
axes:
  events: [late, late-optional]
scenarios:
  late: [{at: 500ms, do: clock-correct}, {at: 20s, do: pause, with: {duration: 100ms}}]
  late-optional: [{at: 500ms, do: clock-correct}, {at: 20s, do: pause, with: {duration: 100ms}, optional: true}]
`,
    );
    try {
      const run = await runCli(['run', ws.file, '--reports', ws.reports, '--plain']);
      expect(run.exitCode, run.all).toBe(4);
      const dir = onlyRunDir(ws.reports);
      const record = readJson<RunRecord>(join(dir, 'results.json'));
      const cell = (events: string) => record.cells.find((c) => c.axes.events === events)!;
      expect(cell('late').outcome).toBe('incomplete');
      expect(cell('late').reason).toMatch(/event pause did not run: the application ended before its trigger \(at 20000 ms\) came/);
      expect(cell('late-optional').outcome, cell('late-optional').reason).toBe('passed');
      expect(cell('late-optional').events.find((e) => e.kind === 'pause')).toMatchObject({ outcome: 'skipped', optional: true });
      const junit = readFileSync(join(dir, 'junit.xml'), 'utf8');
      expect(junit).toMatch(/<error message="not everything asked was done[^"]*" type="incomplete"/);
      expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toMatch(/\*\*1 incomplete\*\*/);
      const page = readFileSync(join(dir, 'cells', `${cell('late').id}.html`), 'utf8');
      expect(page).toMatch(/class="banner o-incomplete"/);
      const optionalPage = readFileSync(join(dir, 'cells', `${cell('late-optional').id}.html`), 'utf8');
      expect(optionalPage).toMatch(/2\. pause <span class="muted">\(optional\)<\/span>/);
    } finally {
      ws.cleanup();
    }
  });

  it('list names the events a suite adds', async () => {
    const ws = workspace(
      () => `name: listed
app: {command: [demo-server], files: ["@tools/demo-server"], service: true, ready: "demo-server ready"}
defaults: {cpu: Nehalem, memory: 384M}
axes: {events: [none]}
suites: [migration-survival]
`,
    );
    try {
      const list = await runCli(['list', ws.file]);
      expect(list.exitCode, list.all).toBe(0);
      expect(list.stdout).toMatch(/\[migrate \(added by suite migration-survival\)\]/);
    } finally {
      ws.cleanup();
    }
  });
});
