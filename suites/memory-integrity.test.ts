import { open } from 'node:fs/promises';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { at, defineCell, runOneCell } from '../harness/index.js';
import { projectRoot } from '../harness/core/project-root.js';
import { ResourceScope } from '../harness/core/scope.js';
import { DEFAULT_MACHINE } from '../harness/model/machine-spec.js';
import type { CellResult, SuiteResult } from '../harness/model/result.js';
import { startQemuMachine, type QemuMachine } from '../harness/machines/qemu/machine.js';
import { runTimeline } from '../harness/inject/timeline.js';
import { SuiteSession } from '../harness/suite/session.js';
import { qemuVersion } from '../harness/machines/qemu/binary.js';
import { hasKnownProblem } from '../harness/machines/qemu/known-problems.js';
import { memoryIntegrity } from './memory-integrity.js';

const migrationMayCorrupt = hasKnownProblem(await qemuVersion(), 'multi-vcpu-migration-corruption');

const TOOL = '/opt/bothworlds/bin/bw-mem-integrity';
const STATE = '/opt/bothworlds/app/.bw-mem-integrity';

const demo = { command: ['demo-server'], files: ['@tools/demo-server'], service: true, readyPattern: 'demo-server ready', health: ['demo-server', '--health'] };

/** Every event the issue names, one after the other (the timeline never interleaves them). */
const everyEvent = [
  at(0, 'cpu-plug'),
  at(1, 'mem-plug', { size: '128M' }),
  at(2, 'mem-unplug'),
  at(3, 'balloon', { target: '50%' }),
  at(4, 'balloon', { target: '100%' }),
  at(5, 'pause', { duration: '1s' }),
  at(6, 'migrate', { 'max-bandwidth': '1G' }),
];

const suiteOf = (result: CellResult): SuiteResult => {
  const suite = result.suites.find((s) => s.suite === 'memory-integrity');
  if (!suite) throw new Error(`no memory-integrity result (cell ${result.outcome}: ${result.reason})`);
  return suite;
};

/**
 * Write guest RAM from the host, behind the guest's back: HMP `gpa2hva` turns the page's
 * guest-physical address (from /proc/PID/pagemap in the guest) into QEMU's own virtual address,
 * and /proc/QEMU_PID/mem writes there. No guest code runs, so nothing in the guest can "see" the
 * write happen: only the checker can find it, as it would find a page a migration got wrong.
 */
async function flipGuestByte(machine: QemuMachine, page: number, offset: number): Promise<void> {
  const located = await machine.exec([TOOL, 'locate', STATE, String(page)]);
  const paddr = /paddr=(0x[0-9a-f]+)/.exec(located.stdout)?.[1];
  expect(paddr, located.stderr).toBeDefined();
  const answer = String(await machine.qmp.execute('human-monitor-command', { 'command-line': `gpa2hva ${paddr}` }));
  const hva = /is (0x[0-9a-f]+)/.exec(answer)?.[1];
  expect(hva, answer).toBeDefined();
  const mem = await open(`/proc/${machine.instance.process.pid}/mem`, 'r+');
  try {
    const byte = Buffer.alloc(1);
    const position = Number(BigInt(hva!) + BigInt(offset));
    await mem.read(byte, 0, 1, position);
    byte[0] = byte[0]! ^ 0x01;
    await mem.write(byte, 0, 1, position);
  } finally {
    await mem.close();
  }
}

describe('memory-integrity', () => {
  const scope = new ResourceScope('memory-integrity-test');
  afterAll(async () => {
    expect(await scope.dispose()).toEqual([]);
    expect((await execa('pgrep', ['-af', 'bw-mem-integrity'], { reject: false })).stdout).toBe('');
  });

  it('catches one bit flipped in guest RAM from the host, naming the page, the count and the event after which it appeared', async () => {
    const machine = await startQemuMachine({ ...DEFAULT_MACHINE, cpuModel: 'max', memoryMiB: 384 }, { scope, name: 'bw-mi-plant' });
    const cell = defineCell({ machine: { cpuModel: 'max', memoryMiB: 384 }, app: { command: ['true'] } });
    const session = new SuiteSession([{ suite: memoryIntegrity, options: { size: '32M', rate: 16 } }], cell, machine, await machine.facts(), new AbortController().signal);
    await session.run('before');
    const run = (kind: string, params: Record<string, unknown> = {}) =>
      runTimeline({ machine, events: [at(0, kind, params)], appStartedAt: performance.now(), signal: new AbortController().signal, onRecord: (r) => session.afterEvent(r) });
    const [clean] = await run('pause', { duration: '300ms' });
    expect(clean!.outcome).toBe('ok');
    // Planted between two events: the window that closes after the next event must report it.
    await flipGuestByte(machine, 5000, 8 * 100 + 3);
    await run('clock-correct');
    await session.run('check');
    await session.run('after');
    const [suite] = session.results();
    expect(suite!.outcome).toBe('failed');
    const byName = Object.fromEntries(suite!.checks.map((c) => [c.name, c]));
    expect(byName['memory intact after pause']!.outcome).toBe('passed');
    const caught = byName['memory intact after clock-correct']!;
    expect(caught.outcome).toBe('failed');
    expect(caught.message).toMatch(/^page 5000 went bad after clock-correct: word 100 expected 0x[0-9a-f]{16} found 0x[0-9a-f]{16} \(found by the (rewriting pass|full check)\); 1 bad page\(s\) in this window, 1 in total$/);
    // One byte: expected and found differ in exactly bit 24 of word 100 (byte 3, little-endian).
    const [, expected, found] = /expected (0x\w+) found (0x\w+)/.exec(caught.message)!;
    expect(BigInt(expected!) ^ BigInt(found!)).toBe(1n << 24n);
    // Reported once and repaired: the end is clean again, the total remembers.
    expect(byName['memory intact at the end']!.outcome).toBe('passed');
    expect(suite!.metrics.bad_pages!.value).toBe(1);
    console.log(`planted: ${caught.message}`);
  });

  it('passes on QEMU across vCPU plug, DIMM plug and unplug, balloon, pause and migration, with a stall per event', async () => {
    const started = performance.now();
    const result = await runOneCell(
      defineCell({
        machine: { cpuModel: 'max', vcpus: 1, maxVcpus: 2, memoryMiB: 512, maxMemoryMiB: 1024, memorySlots: 2 },
        app: demo,
        events: everyEvent,
        suites: [{ name: 'memory-integrity', options: {} }],
        retries: migrationMayCorrupt ? 1 : 0,
      }),
      { snapshots: true },
    );
    const suite = suiteOf(result);
    console.log(`memory-integrity QEMU cell: ${((performance.now() - started) / 1000).toFixed(1)} s; ${suite.checks.map((c) => `${c.name}: ${c.message}`).join('\n')}`);
    expect(result.outcome, `${result.reason} ${JSON.stringify(suite.checks)}`).toBe('passed');
    const names = suite.checks.map((c) => c.name);
    expect(names).toEqual([...everyEvent.map((e) => `memory intact after ${e.kind}`), 'memory intact at the end']);
    for (const check of suite.checks) expect(check.message).toMatch(/^16384 pages intact \(\d+ checked while rewriting, all 16384 (after .+|at the end)\); guest-visible stall \d+ ms/);
    for (const kind of ['cpu_plug', 'mem_plug', 'mem_unplug', 'balloon', 'pause', 'migrate']) expect(suite.metrics[`stall_${kind}_ms`]!.unit).toBe('ms');
    expect(suite.metrics.bad_pages!.value).toBe(0);
  });

  it('passes on libvirt across vCPU plug, DIMM plug and unplug, balloon, pause and migration to the second libvirtd', async () => {
    await execa('bash', ['scripts/services/libvirtd.sh'], { cwd: projectRoot() });
    const result = await runOneCell(
      defineCell({
        backend: 'libvirt',
        machine: { cpuModel: 'Nehalem', vcpus: 1, maxVcpus: 2, memoryMiB: 512, maxMemoryMiB: 1024, memorySlots: 2 },
        app: demo,
        events: everyEvent,
        suites: [{ name: 'memory-integrity', options: { size: '48M' } }],
      }),
    );
    const suite = suiteOf(result);
    console.log(`memory-integrity libvirt cell: ${suite.checks.map((c) => `${c.name}: ${c.message}`).join('\n')}`);
    expect(result.outcome, `${result.reason} ${JSON.stringify(suite.checks)}`).toBe('passed');
    expect(suite.checks.map((c) => c.name)).toEqual([...everyEvent.map((e) => `memory intact after ${e.kind}`), 'memory intact at the end']);
    expect(suite.checks[0]!.message).toMatch(/^12288 pages intact/);
  });

  it('runs on this host (local backend) with the tool uploaded next to the payload', async () => {
    const result = await runOneCell(defineCell({ backend: 'local', app: { command: ['sleep', '2'] }, suites: [{ name: 'memory-integrity', options: { size: '16M', rate: 64 } }] }));
    const suite = suiteOf(result);
    expect(result.outcome, `${result.reason} ${JSON.stringify(suite.checks)}`).toBe('passed');
    expect(suite.checks.map((c) => c.name)).toEqual(['memory intact at the end']);
    expect(suite.checks[0]!.message).toMatch(/^4096 pages intact \([1-9]\d* checked while rewriting/);
  });
});
