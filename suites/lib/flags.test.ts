import { describe, expect, it } from 'vitest';
import { compareFlags, qemuFeatureToFlag, tcgDroppedFeatures } from './flags.js';

describe('QEMU feature names → /proc/cpuinfo flags', () => {
  it('renames the features whose Linux names differ', () => {
    expect(qemuFeatureToFlag('sse3')).toBe('pni');
    expect(qemuFeatureToFlag('lahf-lm')).toBe('lahf_lm');
    expect(qemuFeatureToFlag('tsc-deadline')).toBe('tsc_deadline_timer');
    expect(qemuFeatureToFlag('sse4.2')).toBe('sse4_2');
    expect(qemuFeatureToFlag('pclmuldq')).toBe('pclmulqdq');
    expect(qemuFeatureToFlag('xd')).toBe('nx');
    expect(qemuFeatureToFlag('i64')).toBe('lm');
  });

  it('otherwise swaps dashes and dots for underscores and keeps the rest', () => {
    expect(qemuFeatureToFlag('avx512-bf16')).toBe('avx512_bf16');
    expect(qemuFeatureToFlag('vmx')).toBe('vmx');
    expect(qemuFeatureToFlag('arch-capabilities')).toBe('arch_capabilities');
  });
});

describe('features QEMU dropped under TCG', () => {
  it('reads the feature name out of each warning, mapped and deduplicated', () => {
    const warnings = [
      "qemu-system-x86_64: warning: TCG doesn't support requested feature: CPUID.01H:ECX.vmx [bit 5]",
      "qemu-system-x86_64: warning: TCG doesn't support requested feature: CPUID.01H:ECX.tsc-deadline [bit 24]",
      "qemu-system-x86_64: warning: TCG doesn't support requested feature: CPUID.07H:EBX.avx2 [bit 5]",
      "qemu-system-x86_64: warning: TCG doesn't support requested feature: CPUID.01H:ECX.vmx [bit 5]",
      "qemu-system-x86_64: warning: TCG doesn't support requested feature: MSR(48EH).vmx-tsc-offset [bit 3]",
      'qemu-system-x86_64: warning: host doesn\'t support requested feature: CPUID.80000001H:ECX.svm [bit 2]',
      'qemu-system-x86_64: -device foo: something unrelated',
    ];
    expect(tcgDroppedFeatures(warnings)).toEqual(['avx2', 'svm', 'tsc_deadline_timer', 'vmx']);
  });

  it('finds nothing in unrelated stderr', () => {
    expect(tcgDroppedFeatures(['qemu-system-x86_64: terminating on signal 15 from pid 4'])).toEqual([]);
  });
});

describe('flag comparison', () => {
  const host = ['fpu', 'sse2', 'avx2', 'vmx', 'aes', 'arch_perfmon', 'constant_tsc'];
  const guest = ['fpu', 'sse2', 'aes', 'hypervisor', 'x2apic'];

  it('names what the model promised but the guest lacks, what the host has and the guest not, and what the guest adds', () => {
    const result = compareFlags(guest, host, ['fpu', 'sse2', 'vmx', 'aes', 'x2apic', 'some_feature_nobody_reports'], [
      "qemu-system-x86_64: warning: TCG doesn't support requested feature: CPUID.01H:ECX.vmx [bit 5]",
    ]);
    expect(result.missingFromModel).toEqual(['vmx']);
    expect(result.missingVsHost).toEqual(['arch_perfmon', 'avx2', 'constant_tsc', 'vmx']);
    expect(result.addedVsHost).toEqual(['hypervisor', 'x2apic']);
    expect(result.tcgDropped).toEqual(['vmx']);
  });

  it('has nothing missing from the model when QEMU was not asked (physical machines, host-passthrough)', () => {
    expect(compareFlags(guest, host, undefined, []).missingFromModel).toEqual([]);
  });
});
