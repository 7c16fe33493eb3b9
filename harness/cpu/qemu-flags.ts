/**
 * QEMU feature names → /proc/cpuinfo flag names. Most only swap '-' for '_'; these differ.
 * (QEMU's names come from target/i386/cpu.c feature_word_info; Linux's from cpufeatures.h.)
 */
const RENAMED: Record<string, string> = {
  sse3: 'pni',
  'lahf-lm': 'lahf_lm',
  'tsc-deadline': 'tsc_deadline_timer',
  'sse4.1': 'sse4_1',
  'sse4.2': 'sse4_2',
  'sse4-1': 'sse4_1',
  'sse4-2': 'sse4_2',
  pclmuldq: 'pclmulqdq',
  'ds-cpl': 'ds_cpl',
  'fxsr-opt': 'fxsr_opt',
  'cr8legacy': 'cr8_legacy',
  'i64': 'lm',
  syscall: 'syscall',
  'xd': 'nx',
  'ffxsr': 'fxsr_opt',
  'perfctr-core': 'perfctr_core',
  'perfctr-nb': 'perfctr_nb',
  'kvm-pv-eoi': 'kvm-pv-eoi',
};

export function qemuFeatureToFlag(feature: string): string {
  return RENAMED[feature] ?? feature.replace(/-/g, '_').replace(/\./g, '_');
}
