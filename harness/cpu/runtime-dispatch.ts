import { decodeAt } from './decoder.js';
import { executableSections, fileOffsetOf, functionAt, STT_GNU_IFUNC, type ElfFile, type ElfSymbol } from './elf.js';

/**
 * Functions of the C library (glibc 2.36, Debian 12, as linked into static binaries) that read
 * CPUID themselves or run optional instructions only after glibc checked the CPU: its CPU-feature
 * set-up, the lazy-binding trampolines chosen by XSAVE support, and lock elision (RTM, used only
 * when the CPU has it). Their cpuid does not make the application a run-time dispatcher and their
 * instructions are not the application's needs. Names are compared without gcc's clone suffixes.
 */
const C_RUNTIME_GUARDED = new Set([
  'init_cpu_features', 'update_active', 'get_common_indices', 'get_extended_indices', 'get_common_cache_info', 'handle_intel',
  'handle_amd', 'handle_zhaoxin', 'intel_check_word', 'init_cacheinfo', 'dl_init_cacheinfo', '__libc_start_main', '__libc_early_init',
  '_dl_non_dynamic_init', '_dl_start', '_dl_sysdep_start', '__get_cpu_features', '_dl_x86_init_cpu_features', '__x86_cpu_features',
  '__lll_lock_elision', '__lll_unlock_elision', '__lll_trylock_elision',
  'elision_init', '__pthread_tunables_init',
]);

/** "handle_intel.constprop.0" → "handle_intel". */
export function baseName(symbol: string): string {
  return symbol.replace(/(\.(constprop|isra|part|cold|lto_priv)(\.\d+)?)+$/, '');
}

/** Lazy-binding and TLS-descriptor trampolines: glibc picks the _fxsave/_xsave/_xsavec/_avx512 one for the CPU. */
const C_RUNTIME_GUARDED_PREFIXES = ['_dl_runtime_resolve_', '_dl_runtime_profile_', '_dl_tlsdesc_dynamic_'];

export function isCRuntimeGuarded(symbol: ElfSymbol | undefined): boolean {
  if (symbol === undefined) return false;
  const name = baseName(symbol.name);
  return C_RUNTIME_GUARDED.has(name) || C_RUNTIME_GUARDED_PREFIXES.some((prefix) => name.startsWith(prefix));
}

/** How many bytes of a resolver to read when the file has no symbol sizes (glibc's are < 200 bytes). */
const RESOLVER_BYTES = 512;

export interface IfuncDispatch {
  /** Resolvers found (IRELATIVE relocations, STT_GNU_IFUNC symbols). */
  resolvers: number;
  /** Functions a resolver can return: their code runs only on CPUs the resolver chose them for. */
  candidates: Set<ElfSymbol>;
}

/**
 * ifunc dispatch: each resolver returns the address of one of several implementations, chosen
 * from the CPU's features, and takes those addresses with `lea reg, [rip+disp]` (glibc's
 * `strchr_ifunc`: __strchr_sse2, __strchr_avx2, __strchr_evex). Every function whose address a
 * resolver takes is a candidate. Needs symbols to give candidates an extent.
 */
export function findIfuncCandidates(elf: ElfFile): IfuncDispatch {
  const resolverAddresses = new Set([...elf.irelativeResolvers, ...elf.functions.filter((f) => f.type === STT_GNU_IFUNC).map((f) => f.value)]);
  const candidates = new Set<ElfSymbol>();
  const code = executableSections(elf);
  const inCode = (address: number) => code.some((s) => address >= s.addr && address < s.addr + s.size);
  for (const resolver of resolverAddresses) {
    const symbol = elf.functions.find((f) => f.value === resolver && f.size > 0);
    const end = resolver + (symbol?.size ?? RESOLVER_BYTES);
    let offset = fileOffsetOf(elf, resolver);
    if (offset === undefined) continue;
    for (let address = resolver; address < end && offset < elf.bytes.length; ) {
      const instruction = decodeAt(elf.bytes.subarray(offset, offset + 15), address);
      if (instruction.invalid) break;
      if (instruction.leaTarget !== undefined && inCode(instruction.leaTarget)) {
        const target = functionAt(elf, instruction.leaTarget);
        if (target && target.value !== resolver) candidates.add(target);
      }
      address += instruction.length;
      offset += instruction.length;
    }
  }
  return { resolvers: resolverAddresses.size, candidates };
}
