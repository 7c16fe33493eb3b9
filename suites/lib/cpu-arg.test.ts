import { describe, expect, it } from 'vitest';
import { parseCpuArgument } from './cpu-arg.js';

describe('QEMU -cpu argument', () => {
  it('is a bare model name', () => {
    expect(parseCpuArgument('Nehalem')).toEqual({ name: 'Nehalem', props: {} });
  });

  it('switches features with +/- and =on/off, leaving non-boolean properties out', () => {
    expect(parseCpuArgument('Nehalem,+vmx,-sse4.2,x2apic=on,pmu=off,level=13')).toEqual({
      name: 'Nehalem',
      props: { vmx: true, 'sse4.2': false, x2apic: true, pmu: false },
    });
  });
});
