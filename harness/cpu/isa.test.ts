import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeExit, describeSignal } from '../core/signal-names.js';
import { buildIsaFixture } from './build-fixture.test-helper.js';
import { describeNeeds, declaredLevel } from './features.js';
import { modelFlags } from './model-flags.js';
import { predictCell } from './predict.js';
import { analyseFile } from './scan.js';
import { instructionAtTrap, parseInvalidOpcodeTraps } from './sigill.js';

/** Real binaries from gcc, real QEMU model expansions: what each fixture needs and which models lack it. */
describe('ISA needs of a binary', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-isa-'));
  const bin: Record<string, string> = {};
  beforeAll(async () => {
    for (const name of ['avx2', 'aes', 'bmi2', 'dispatch', 'memcpy'] as const) bin[name] = await buildIsaFixture(name, dir);
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds AVX2 in the static -mavx2 binary, and sets glibc ifunc variants apart', async () => {
    const isa = (await analyseFile(bin.avx2!))!;
    expect(isa.needs).toEqual(['avx', 'avx2']);
    expect(isa.found.avx2!.function).toBe('main');
    expect(isa.found.avx2!.mnemonic).toMatch(/^vp/);
    // glibc's AVX-512/EVEX string functions are there, chosen by their ifuncs: reported, not needed.
    expect(isa.dispatch!.how[0]).toMatch(/ifuncs/);
    expect(isa.dispatch!.flags).toContain('avx512f');
    expect(isa.dispatch!.appLevel).toBe(false);
    expect(isa.scan.complete).toBe(true);
    expect(describeNeeds(isa.needs)).toBe('x86-64-v3 (avx, avx2)');
  });

  it('finds AES-NI and BMI2 in main', async () => {
    const aes = (await analyseFile(bin.aes!))!;
    expect(aes.needs).toEqual(['aes']);
    expect(aes.found.aes).toMatchObject({ mnemonic: 'aesenc', function: 'main' });
    const bmi2 = (await analyseFile(bin.bmi2!))!;
    expect(bmi2.needs).toEqual(['bmi2']);
    expect(bmi2.found.bmi2).toMatchObject({ mnemonic: 'pext', function: 'main' });
  });

  it('does not predict a binary that dispatches itself (__builtin_cpu_supports) or uses glibc ifuncs from a shared libc', async () => {
    const dispatch = (await analyseFile(bin.dispatch!))!;
    expect(dispatch.needs).toEqual([]);
    expect(dispatch.dispatch!.appLevel).toBe(true);
    expect(dispatch.dispatch!.how.join(' ')).toMatch(/cpuid in .*__cpu_indicator_init/);
    expect(dispatch.dispatch!.flags).toContain('avx2');
    const memcpy = (await analyseFile(bin.memcpy!))!;
    expect(memcpy.needs).toEqual([]);
  });

  it('predicts per CPU model from QEMU: Nehalem lacks avx2 and aes, SandyBridge bmi2; Haswell and max lack none', async () => {
    const models = await modelFlags(['Nehalem', 'SandyBridge', 'Haswell', 'max'], 'tcg');
    const predict = async (file: string, model: string) => predictCell([(await analyseFile(file))!], { cpu: model, flags: models.get(model)!.flags });
    const nehalem = await predict(bin.avx2!, 'Nehalem');
    expect(nehalem.lacking.map((l) => l.flag)).toEqual(['avx', 'avx2']);
    expect(nehalem.expected).toMatch(/expected to fail: the application needs avx \(found by scan: vmovd in main at 0x[0-9a-f]+ in avx2\), avx2 .*which Nehalem lacks/);
    expect((await predict(bin.avx2!, 'Haswell')).lacking).toEqual([]);
    expect((await predict(bin.avx2!, 'max')).lacking).toEqual([]);
    expect((await predict(bin.aes!, 'Nehalem')).lacking.map((l) => l.flag)).toEqual(['aes']);
    expect((await predict(bin.aes!, 'SandyBridge')).lacking).toEqual([]);
    expect((await predict(bin.bmi2!, 'SandyBridge')).lacking.map((l) => l.flag)).toEqual(['bmi2']);
    expect((await predict(bin.dispatch!, 'Nehalem')).expected).toBeUndefined();
    // TCG cannot give Haswell its rtm: QEMU's unavailable-features are taken off.
    expect(models.get('Haswell')!.flags).not.toContain('rtm');
    expect(models.get('Haswell')!.flags).toContain('avx2');
  });

  it('decodes the instruction at a kernel trap address from the file', () => {
    const [trap] = parseInvalidOpcodeTraps('[   12.3] traps: avx2[231] trap invalid opcode ip:401516 sp:7ffd5e0e5d40 error:0 in avx2[401000+77000]\n');
    expect(trap).toMatchObject({ comm: 'avx2', pid: 231, ip: 0x401516, file: 'avx2', base: 0x401000 });
    const isa = readFileSync(bin.avx2!);
    // The first AVX instruction of main, wherever this gcc put it.
    return analyseFile(bin.avx2!).then((analysis) => {
      const ip = parseInt(analysis!.found.avx!.address, 16);
      const fault = instructionAtTrap({ comm: 'avx2', pid: 1, ip, file: 'avx2', base: 0x401000, size: 0x77000 }, isa);
      expect(fault).toMatchObject({ instruction: analysis!.found.avx!.mnemonic, flags: ['avx'], file: 'avx2', address: analysis!.found.avx!.address });
    });
  });

  it('takes a declared x86-64 level (gcc -march=x86-64-v3 -mneeded) as needed, and predicts from it', async () => {
    writeFileSync(join(dir, 'v3.c'), 'int main(void) { return 0; }\n');
    await execa('gcc', ['-O2', '-march=x86-64-v3', '-mneeded', '-o', join(dir, 'v3'), join(dir, 'v3.c')]);
    const isa = (await analyseFile(join(dir, 'v3')))!;
    expect(isa.declared?.level).toBe('x86-64-v3');
    expect(isa.needs).toEqual(expect.arrayContaining(['avx2', 'bmi2', 'fma', 'sse4_2']));
    const models = await modelFlags(['SandyBridge'], 'tcg');
    const prediction = predictCell([isa], { cpu: 'SandyBridge', flags: models.get('SandyBridge')!.flags });
    expect(prediction.lacking.find((l) => l.flag === 'avx2')).toMatchObject({ evidence: 'declared', detail: 'declares x86-64-v3' });
  });

  it('reads the newer kernels\' trap format and names signals', () => {
    expect(parseInvalidOpcodeTraps('traps: a[9] trap invalid opcode ip:55d0c0a01139 sp:7ffc error:0 in a[1139,55d0c0a01000+1000]')[0]).toMatchObject({ ip: 0x55d0c0a01139, base: 0x55d0c0a01000 });
    expect(describeSignal('SIGILL')).toBe('SIGILL (signal 4, illegal instruction)');
    expect(describeSignal(11)).toBe('SIGSEGV (signal 11, segmentation fault)');
    expect(describeExit({ exitCode: null, signal: '7' })).toBe('was killed by SIGBUS (signal 7, bus error)');
    expect(describeExit({ exitCode: 132 })).toMatch(/code 132 .*SIGILL/);
    expect(declaredLevel(0b0101)).toMatchObject({ level: 'x86-64-v3' });
  });
});
