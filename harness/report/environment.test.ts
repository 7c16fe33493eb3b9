import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { collectEnvironment } from './environment.js';

describe('environment fingerprint', () => {
  it('reads the real host: CPU flags, kernel, cores, memory, tool versions', async () => {
    const environment = await collectEnvironment({ kvm: { usable: false, reason: 'test' } });
    const cpuinfoFlags = /^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))![1]!.trim().split(/\s+/);
    expect(environment.hostCpuFlags).toEqual([...cpuinfoFlags].sort());
    expect(environment.hostKernel).toBe(release());
    expect(environment.cores).toBeGreaterThan(0);
    expect(environment.memoryMiB).toBeGreaterThan(100);
    expect(environment.nodeVersion).toBe(process.version);
    expect(environment.kvm).toEqual({ usable: false, reason: 'test' });
    if (environment.qemuVersion !== undefined) expect(environment.qemuVersion).toMatch(/QEMU emulator version \d+\.\d+/);
  });

  it('leaves a missing tool undefined instead of crashing', async () => {
    const previous = process.env.BOTHWORLDS_QEMU;
    process.env.BOTHWORLDS_QEMU = '/nonexistent/qemu-system-x86_64';
    try {
      const environment = await collectEnvironment();
      expect(environment.qemuVersion).toBeUndefined();
      expect(environment.kvm.usable).toBe(false);
    } finally {
      if (previous === undefined) delete process.env.BOTHWORLDS_QEMU;
      else process.env.BOTHWORLDS_QEMU = previous;
    }
  });
});
