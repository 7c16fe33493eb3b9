import { qemuFeatureToFlag } from '../../harness/cpu/qemu-flags.js';

export { qemuFeatureToFlag };

/** Flags every x86 Linux shows that matter to applications: the vocabulary `missing` is judged in. */
export const WELL_KNOWN_FLAGS = new Set([
  'vmx', 'svm', 'arch_perfmon', 'hypervisor', 'avx', 'avx2', 'avx512f', 'avx512bw', 'avx512vl', 'avx512cd', 'avx512dq', 'aes', 'pclmulqdq',
  'sse', 'sse2', 'pni', 'ssse3', 'sse4_1', 'sse4_2', 'popcnt', 'fma', 'f16c', 'bmi1', 'bmi2', 'adx', 'rdrand', 'rdseed', 'sha_ni', 'x2apic',
  'tsc_deadline_timer', 'pcid', 'invpcid', 'hle', 'rtm', 'xsave', 'xsaveopt', 'xsavec', 'movbe', 'erms', 'fsgsbase', 'smep', 'smap',
  'constant_tsc', 'nonstop_tsc', 'tsc_known_freq', 'rdtscp', 'lm', 'nx', 'pdpe1gb', 'clflushopt', 'clwb', '3dnowprefetch', 'abm', 'lahf_lm',
]);

/**
 * CPUID features QEMU said it could not give the guest: "warning: TCG doesn't support requested
 * feature: CPUID.01H:ECX.vmx [bit 5]". VMX capability MSR bits ("MSR(48EH).vmx-tsc-offset") are
 * not CPU flags and are left out.
 */
export function tcgDroppedFeatures(warnings: readonly string[]): string[] {
  const dropped = new Set<string>();
  for (const line of warnings) {
    const match = /doesn't support requested feature: CPUID\.[0-9A-Fa-f]+H:[A-Z]+\.([A-Za-z0-9_.-]+) \[bit/.exec(line);
    if (match?.[1]) dropped.add(qemuFeatureToFlag(match[1]));
  }
  return [...dropped].sort();
}

export interface FlagComparison {
  /** Expected from the CPU model (QEMU's expansion) but absent in the guest. */
  missingFromModel: string[];
  /** On the host, not in the guest (well-known flags only). */
  missingVsHost: string[];
  /** In the guest, not on the host (e.g. hypervisor). */
  addedVsHost: string[];
  tcgDropped: string[];
}

export function compareFlags(guest: string[], host: string[], expected: string[] | undefined, warnings: readonly string[]): FlagComparison {
  const g = new Set(guest);
  const h = new Set(host);
  const vocabulary = new Set([...WELL_KNOWN_FLAGS, ...host, ...guest]);
  return {
    missingFromModel: (expected ?? []).filter((f) => vocabulary.has(f) && !g.has(f)).sort(),
    missingVsHost: host.filter((f) => WELL_KNOWN_FLAGS.has(f) && !g.has(f)).sort(),
    addedVsHost: guest.filter((f) => !h.has(f)).sort(),
    tcgDropped: tcgDroppedFeatures(warnings),
  };
}
