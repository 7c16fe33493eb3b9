import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { CLI } from './cli-helpers.js';
import { qemuVersion } from '../harness/machines/qemu/binary.js';
import { KNOWN_PROBLEMS, knownProblemsOf } from '../harness/machines/qemu/known-problems.js';

const doctor = (env: Record<string, string> = {}) => execa(process.execPath, [CLI, 'doctor'], { reject: false, all: true, env: { NO_COLOR: '1', ...env } });

describe('bothworlds doctor', () => {
  it('names the known problems of the QEMU it finds, and only those', async () => {
    const result = await doctor();
    const version = await qemuVersion();
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).toContain(version.text);
    const accel = /KVM\s+usable/.test(result.all) ? 'kvm' : 'tcg';
    const expected = knownProblemsOf(version, accel).map((p) => p.id);
    for (const problem of KNOWN_PROBLEMS) expect(result.all.includes(`[${problem.id};`), problem.id).toBe(expected.includes(problem.id));
    for (const problem of knownProblemsOf(version, accel)) expect(result.all).toContain(`→ ${problem.handling}`);
  });

  it('fails without QEMU and names no QEMU problems', async () => {
    const result = await doctor({ BOTHWORLDS_QEMU: '/nonexistent/qemu-system-x86_64' });
    expect(result.exitCode).toBe(3);
    expect(result.all).toMatch(/FAIL\s+QEMU/);
    expect(result.all).not.toContain('known bug');
  });
});
