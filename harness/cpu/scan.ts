import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { scanCode, type DecodedInstruction } from './decoder.js';
import { executableSections, functionAt, isElf, parseElf, type ElfSymbol } from './elf.js';
import { declaredLevel } from './features.js';
import { findIfuncCandidates, isCRuntimeGuarded } from './runtime-dispatch.js';

/** One instruction that needs a flag: the evidence shown to a person. */
export interface IsaExample {
  mnemonic: string;
  text: string;
  /** Hex, as the kernel and objdump print it. */
  address: string;
  function?: string;
}

/** What one ELF file of app.files needs from the CPU, and how that was learned. */
export interface BinaryIsa {
  file: string;
  /** GNU_PROPERTY_X86_ISA_1_NEEDED, when the file declares a level above the baseline. */
  declared?: { level: string; flags: string[] };
  /** Flags found by scanning code that runs whatever the CPU (one example each). */
  found: Record<string, IsaExample>;
  /**
   * The file chooses code paths at run time: how (ifuncs, cpuid), and the flags of the code it
   * may or may not take. These are never predicted.
   */
  dispatch?: { how: string[]; flags: string[]; appLevel: boolean };
  /** Flags the file cannot run without: declared ∪ found, unless the application dispatches itself. */
  needs: string[];
  scan: { ms: number; bytes: number; instructions: number; complete: boolean };
}

export interface ScanOptions {
  /** Stop scanning a file after this long (its result says it is incomplete). Default 5 s. */
  budgetMs?: number;
}

const cache = new Map<string, Promise<BinaryIsa | undefined>>();

/** analyseBinary, cached per path, size and mtime (list, the run and every cell ask again). */
export async function analyseFile(path: string, options: ScanOptions = {}): Promise<BinaryIsa | undefined> {
  const info = await stat(path);
  const key = `${path}:${info.size}:${info.mtimeMs}`;
  let result = cache.get(key);
  if (!result) {
    result = readFile(path).then((bytes) => (isElf(bytes) ? analyseBinary(bytes, basename(path), options) : undefined));
    cache.set(key, result);
  }
  return result;
}

/**
 * What an x86-64 ELF file needs: its declared ISA level, then a linear disassembly of its
 * executable sections, bounded by `budgetMs`. Code reached through ifuncs (the resolver picks it
 * for the CPU) and the C library's own guarded code are set apart; a `cpuid` anywhere else means
 * the application dispatches itself, and then nothing found by scan is predicted.
 */
export function analyseBinary(bytes: Buffer, file: string, options: ScanOptions = {}): BinaryIsa {
  const started = performance.now();
  const elf = parseElf(bytes, file);
  const declared = elf.isaNeeded !== undefined ? declaredLevel(elf.isaNeeded) : { flags: [] };
  const ifunc = findIfuncCandidates(elf);
  const found: Record<string, IsaExample> = {};
  const dispatchedFlags = new Set<string>();
  const cpuidIn = new Set<string>();
  const deadline = started + (options.budgetMs ?? 5_000);
  const totals = { bytes: 0, instructions: 0, complete: true };
  for (const section of executableSections(elf)) {
    if (!totals.complete) break;
    const code = bytes.subarray(section.offset, section.offset + section.size);
    const result = scanCode(code, section.addr, deadline, (instruction, format) => {
      const owner = functionAt(elf, instruction.address);
      if (instruction.mnemonic === 'cpuid' && !isCRuntimeGuarded(owner)) cpuidIn.add(owner?.name ?? `code at 0x${instruction.address.toString(16)}`);
      if (instruction.flags.length === 0) return;
      const dispatched = (owner !== undefined && ifunc.candidates.has(owner)) || isCRuntimeGuarded(owner);
      for (const flag of instruction.flags) {
        if (dispatched) dispatchedFlags.add(flag);
        else found[flag] ??= example(instruction, format(), owner);
      }
    });
    totals.bytes += result.bytesScanned;
    totals.instructions += result.instructions;
    totals.complete &&= result.complete;
  }
  const how: string[] = [];
  if (ifunc.resolvers > 0) how.push(`${ifunc.resolvers} ifunc${ifunc.resolvers === 1 ? '' : 's'}`);
  if (cpuidIn.size > 0) how.push(`cpuid in ${[...cpuidIn].slice(0, 3).join(', ')}${cpuidIn.size > 3 ? ` and ${cpuidIn.size - 3} more` : ''}`);
  // Without symbols, ifunc candidates have no extent: what the scan found may be theirs.
  const unattributed = ifunc.resolvers > 0 && !elf.hasSymtab;
  if (unattributed) how.push('no symbol table to tell the dispatched code apart');
  const appLevel = cpuidIn.size > 0 || unattributed;
  if (appLevel) for (const flag of Object.keys(found)) dispatchedFlags.add(flag);
  const needs = new Set(declared.flags);
  if (!appLevel) for (const flag of Object.keys(found)) needs.add(flag);
  return {
    file,
    ...(declared.level ? { declared: { level: declared.level, flags: declared.flags } } : {}),
    found,
    ...(how.length > 0 ? { dispatch: { how, flags: [...dispatchedFlags].filter((f) => !needs.has(f)).sort(), appLevel } } : {}),
    needs: [...needs].sort(),
    scan: { ms: Math.round(performance.now() - started), ...totals },
  };
}

function example(instruction: DecodedInstruction, text: string, owner: ElfSymbol | undefined): IsaExample {
  return {
    mnemonic: instruction.mnemonic,
    text,
    address: `0x${instruction.address.toString(16)}`,
    ...(owner ? { function: owner.name } : {}),
  };
}

