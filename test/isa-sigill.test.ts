import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunRecord } from '../harness/report/run-record.js';
import { buildIsaFixture } from '../harness/cpu/build-fixture.test-helper.js';
import { onlyRunDir, qemusWith, readJson, runCli, workspace } from './cli-helpers.js';

/** Issue 18 as a user meets it: static binaries from gcc on CPU models that lack what they need. */
describe('a CPU model that breaks the application', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  const matrix = (name: string, cpus: string[]) => (tag: string) => `name: isa-${name}
app: {command: [/opt/bothworlds/app/${name}], files: [${name}], timeout: 30s}
defaults: {memory: 256M, run: "${tag}", accel: tcg}
axes:
  cpu: [${cpus.join(', ')}]
suites: [cpu-model]
timeout: 120s
`;

  async function runFixture(name: 'avx2' | 'aes' | 'bmi2' | 'dispatch', cpus: string[]) {
    const ws = workspace(matrix(name, cpus));
    cleanups.push(ws.cleanup);
    await buildIsaFixture(name, ws.dir);
    const list = await runCli(['list', ws.file, '--no-dropped']);
    expect(list.exitCode, list.all).toBe(0);
    const run = await runCli(['run', ws.file, '--reports', ws.reports, '--plain']);
    const dir = onlyRunDir(ws.reports);
    const record = readJson<RunRecord>(join(dir, 'results.json'));
    const cell = (cpu: string) => record.cells.find((c) => c.axes.cpu === cpu)!;
    expect(await qemusWith(ws.tag)).toEqual([]);
    return { list: list.stdout, run, dir, record, cell };
  }

  it('AVX2 on Nehalem: predicted in list and on the cell page, then killed by SIGILL naming the instruction and the flag; passes on Haswell and max', async () => {
    const { list, run, dir, record, cell } = await runFixture('avx2', ['Nehalem', 'Haswell', 'max']);
    expect(list).toMatch(/app needs x86-64-v3 \(avx, avx2\)/);
    expect(list).toMatch(/cpu=Nehalem\n\s+✗ expected to fail: the application needs avx \(found by scan: v\w+ in main at 0x[0-9a-f]+ in avx2\), avx2 .*which Nehalem lacks/);
    expect(list).not.toMatch(/cpu=(Haswell|max)\n\s+✗/);
    expect(run.exitCode, run.all).toBe(1);
    const nehalem = cell('Nehalem');
    expect(nehalem.outcome).toBe('failed');
    expect(nehalem.reason).toMatch(/killed by SIGILL \(signal 4, illegal instruction\) at v\w+ \(needs avx2?\) in avx2 at 0x[0-9a-f]+, which the Nehalem model does not have; the host has it/);
    // The cpu-model suite fails it too, naming the flag and the instruction.
    expect(nehalem.reason).toMatch(/cpu-model: application needs: the application needs avx \(found by scan: v\w+ in main/);
    expect(nehalem.isa?.expected).toMatch(/expected to fail/);
    expect(nehalem.isa?.sigill?.flag).toMatch(/^avx2?$/);
    expect(cell('Haswell').outcome).toBe('passed');
    expect(cell('max').outcome).toBe('passed');
    expect(cell('Haswell').isa?.lacking).toEqual([]);
    const page = readFileSync(join(dir, 'cells', `${nehalem.id}.html`), 'utf8');
    expect(page).toMatch(/Predicted before the run:<\/b> expected to fail/);
    const index = readFileSync(join(dir, 'index.html'), 'utf8');
    expect(index).toMatch(/What each CPU model breaks/);
    const summary = readFileSync(join(dir, 'summary.md'), 'utf8');
    expect(summary).toMatch(/\| Nehalem \| \*\*avx\*\* \(seen as SIGILL: v\w+ at 0x[0-9a-f]+ in avx2\); \*\*avx2\*\* \(found by scan/);
    expect(summary).toMatch(/\| Haswell \| nothing \| 0 of 1 failed \|/);
    expect(record.cells).toHaveLength(3);
  }, 240_000);

  it('AES-NI on Nehalem (aesenc) and BMI2 on SandyBridge (pext): predicted and named after the SIGILL', async () => {
    const aes = await runFixture('aes', ['Nehalem', 'SandyBridge']);
    expect(aes.list).toMatch(/cpu=Nehalem\n\s+✗ expected to fail: the application needs aes \(found by scan: aesenc in main/);
    expect(aes.cell('Nehalem').reason).toMatch(/killed by SIGILL \(signal 4, illegal instruction\) at aesenc \(needs aes\) in aes at 0x[0-9a-f]+, which the Nehalem model does not have/);
    expect(aes.cell('SandyBridge').outcome).toBe('passed');
    const bmi2 = await runFixture('bmi2', ['SandyBridge', 'Haswell']);
    expect(bmi2.list).toMatch(/cpu=SandyBridge\n\s+✗ expected to fail: the application needs bmi2 \(found by scan: pext in main/);
    expect(bmi2.cell('SandyBridge').reason).toMatch(/killed by SIGILL .* at pext \(needs bmi2\) in bmi2 at 0x[0-9a-f]+, which the SandyBridge model does not have/);
    expect(bmi2.cell('Haswell').outcome).toBe('passed');
  }, 240_000);

  it('a binary that chooses its path at run time (__builtin_cpu_supports) is not predicted, and passes on Nehalem', async () => {
    const { list, cell } = await runFixture('dispatch', ['Nehalem', 'max']);
    expect(list).toMatch(/app dispatches at run time \(not predicted\): dispatch: .*cpuid in .*__cpu_indicator_init/);
    expect(list).not.toMatch(/expected to fail/);
    expect(cell('Nehalem').outcome, cell('Nehalem').reason).toBe('passed');
    expect(cell('max').outcome, cell('max').reason).toBe('passed');
  }, 240_000);
});
