import { describe, expect, it } from 'vitest';
import { parseCpuHelp, qemuCpuNames } from './cpu-models.js';

describe('the CPU model names QEMU accepts', () => {
  it('reads them from the real QEMU: the models matrices use, aliases and versions, no CPUID flags', async () => {
    const names = await qemuCpuNames();
    expect(names, 'qemu-system-x86_64 -cpu help did not run').toBeDefined();
    for (const model of ['Nehalem', 'SandyBridge', 'Skylake-Client', 'Nehalem-v1', 'max', 'host', 'base', 'qemu64']) expect(names!.models.has(model), model).toBe(true);
    // Flags are listed after the models; they are not models.
    for (const flag of ['avx2', 'x2apic', 'sse4.2']) expect(names!.models.has(flag), flag).toBe(false);
  });

  it('stops at the end of the list', () => {
    const text = 'Available CPUs:\n  486                   (alias configured by machine type)\n  Nehalem-v1            Intel Core i7 9xx\n\nRecognized CPUID flags:\n  3dnow avx2\n';
    expect([...parseCpuHelp(text)]).toEqual(['486', 'Nehalem-v1']);
  });
});
