/**
 * CPUID features as iced-x86 names them → /proc/cpuinfo flag names (Linux's cpufeatures.h), the
 * vocabulary the guest's facts, QEMU's model expansion (after suites/lib/flags.ts) and reports use.
 * Most are the lower-cased name; these differ.
 */
const RENAMED: Record<string, string> = {
  SSE3: 'pni',
  LZCNT: 'abm',
  SHA: 'sha_ni',
  CMPXCHG16B: 'cx16',
  AVX512_IFMA: 'avx512ifma',
  AVX512_VBMI: 'avx512vbmi',
  D3NOW: '3dnow',
  D3NOWEXT: '3dnowext',
};

/**
 * Features that never decide whether a program runs here: the x86-64 baseline every 64-bit CPU has,
 * and instructions in the hint/NOP space that older CPUs execute without faulting (endbr64, rdssp,
 * pause, multi-byte NOPs, HLE prefixes, prefetchw).
 */
export const IGNORED_FEATURES: ReadonlySet<string> = new Set([
  'INTEL8086', 'INTEL8086_ONLY', 'INTEL186', 'INTEL286', 'INTEL286_ONLY', 'INTEL386', 'INTEL386_ONLY', 'INTEL386_A0_ONLY', 'INTEL486',
  'INTEL486_A_ONLY', 'X64', 'CMOV', 'CX8', 'FPU', 'FPU287', 'FPU287XL_ONLY', 'FPU387', 'FPU387SL_ONLY', 'FXSR', 'MMX', 'SSE', 'SSE2',
  'SYSCALL', 'SEP', 'TSC', 'CPUID', 'CLFSH', 'MSR', 'MULTIBYTENOP', 'PAUSE', 'CET_IBT', 'CET_SS', 'HLE', 'PREFETCHW',
]);

/** The cpuinfo flag an instruction needs for one of its iced CPUID features, or undefined when none matters. */
export function flagOfFeature(feature: string, mnemonic: string): string | undefined {
  if (IGNORED_FEATURES.has(feature)) return undefined;
  // tzcnt is `rep bsf`: CPUs without BMI1 run it as bsf, and compilers emit it for generic x86-64.
  if (feature === 'BMI1' && mnemonic === 'tzcnt') return undefined;
  if (feature === 'HLE_or_RTM') return 'rtm';
  return RENAMED[feature] ?? feature.toLowerCase();
}

/** x86-64 micro-architecture levels (psABI), each adding to the previous one. */
export const ISA_LEVELS: ReadonlyArray<{ name: string; bit: number; flags: readonly string[] }> = [
  { name: 'x86-64-v2', bit: 1, flags: ['cx16', 'lahf_lm', 'popcnt', 'pni', 'sse4_1', 'sse4_2', 'ssse3'] },
  { name: 'x86-64-v3', bit: 2, flags: ['avx', 'avx2', 'bmi1', 'bmi2', 'f16c', 'fma', 'abm', 'movbe', 'xsave'] },
  { name: 'x86-64-v4', bit: 3, flags: ['avx512f', 'avx512bw', 'avx512cd', 'avx512dq', 'avx512vl'] },
];

/** Flags a GNU_PROPERTY_X86_ISA_1_NEEDED value declares (levels are cumulative), and the highest level's name. */
export function declaredLevel(bits: number): { level?: string; flags: string[] } {
  let top = -1;
  ISA_LEVELS.forEach((level, index) => {
    if (bits & (1 << level.bit)) top = index;
  });
  if (top < 0) return { flags: [] };
  return { level: ISA_LEVELS[top]!.name, flags: ISA_LEVELS.slice(0, top + 1).flatMap((l) => [...l.flags]) };
}

/** "x86-64-v3 (avx, avx2)", "aes, pclmulqdq", "x86-64-v2 (sse4_2) and aes": the lowest level that covers the flags, then the rest. */
export function describeNeeds(flags: readonly string[]): string {
  const sorted = [...new Set(flags)].sort();
  let top = -1;
  ISA_LEVELS.forEach((level, index) => {
    if (sorted.some((f) => level.flags.includes(f))) top = index;
  });
  if (top < 0) return sorted.join(', ');
  const leveled = new Set(ISA_LEVELS.slice(0, top + 1).flatMap((l) => [...l.flags]));
  const inLevel = sorted.filter((f) => leveled.has(f));
  const others = sorted.filter((f) => !leveled.has(f));
  return `${ISA_LEVELS[top]!.name} (${inLevel.join(', ')})${others.length ? ` and ${others.join(', ')}` : ''}`;
}
