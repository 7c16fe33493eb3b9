import { ConfigError } from '../core/errors.js';

/** A loadable segment (PT_LOAD): where a piece of the file sits in memory. */
export interface ElfSegment {
  offset: number;
  vaddr: number;
  fileSize: number;
  memSize: number;
  executable: boolean;
}

export interface ElfSection {
  name: string;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
  entSize: number;
}

export interface ElfSymbol {
  name: string;
  value: number;
  size: number;
  /** STT_*: 2 FUNC, 10 GNU_IFUNC. */
  type: number;
}

/** The parts of an x86-64 ELF file the ISA analysis reads (64-bit little-endian only). */
export interface ElfFile {
  bytes: Buffer;
  /** ET_EXEC 2, ET_DYN 3 (PIE executables and shared libraries). */
  type: number;
  entry: number;
  segments: ElfSegment[];
  sections: ElfSection[];
  /** .symtab, or .dynsym when stripped; functions only, sorted by address. */
  functions: ElfSymbol[];
  /** Whether a full symbol table (.symtab) was there. */
  hasSymtab: boolean;
  /** Addends of R_X86_64_IRELATIVE relocations: the addresses of ifunc resolvers. */
  irelativeResolvers: number[];
  /** PT_INTERP present: a dynamically linked executable. */
  dynamic: boolean;
  /** GNU_PROPERTY_X86_ISA_1_NEEDED bits, when the file declares them. */
  isaNeeded?: number;
}

const SHF_EXECINSTR = 0x4;
const PT_LOAD = 1;
const PT_INTERP = 3;
const PF_X = 1;
const SHT_SYMTAB = 2;
const SHT_RELA = 4;
const SHT_NOTE = 7;
const SHT_DYNSYM = 11;
const R_X86_64_IRELATIVE = 37;
const NT_GNU_PROPERTY_TYPE_0 = 5;
const GNU_PROPERTY_X86_ISA_1_NEEDED = 0xc0008002;
export const STT_FUNC = 2;
export const STT_GNU_IFUNC = 10;

/** Whether these bytes start like an ELF file (so app.files' scripts and data are passed over). */
export function isElf(bytes: Buffer): boolean {
  return bytes.length >= 64 && bytes.readUInt32BE(0) === 0x7f454c46;
}

/** Parse an ELF64 little-endian x86-64 file; ConfigError (ELF_UNSUPPORTED) for anything else. */
export function parseElf(bytes: Buffer, name = 'file'): ElfFile {
  if (!isElf(bytes)) throw new ConfigError('ELF_UNSUPPORTED', `${name} is not an ELF file`);
  if (bytes[4] !== 2 || bytes[5] !== 1 || bytes.readUInt16LE(18) !== 62) {
    throw new ConfigError('ELF_UNSUPPORTED', `${name} is not a 64-bit little-endian x86-64 ELF file`);
  }
  const num = (at: number) => Number(bytes.readBigUInt64LE(at));
  const phoff = num(32);
  const shoff = num(40);
  const phentsize = bytes.readUInt16LE(54);
  const phnum = bytes.readUInt16LE(56);
  const shentsize = bytes.readUInt16LE(58);
  const shnum = bytes.readUInt16LE(60);
  const shstrndx = bytes.readUInt16LE(62);

  const segments: ElfSegment[] = [];
  let dynamic = false;
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    const type = bytes.readUInt32LE(at);
    if (type === PT_INTERP) dynamic = true;
    if (type !== PT_LOAD) continue;
    segments.push({ offset: num(at + 8), vaddr: num(at + 16), fileSize: num(at + 32), memSize: num(at + 40), executable: (bytes.readUInt32LE(at + 4) & PF_X) !== 0 });
  }

  const raw: Array<Omit<ElfSection, 'name'>> = [];
  const nameOffsets: number[] = [];
  for (let i = 0; shoff > 0 && i < shnum; i++) {
    const at = shoff + i * shentsize;
    if (at + 64 > bytes.length) break;
    nameOffsets.push(bytes.readUInt32LE(at));
    raw.push({ type: bytes.readUInt32LE(at + 4), flags: num(at + 8), addr: num(at + 16), offset: num(at + 24), size: num(at + 32), link: bytes.readUInt32LE(at + 40), entSize: num(at + 56) });
  }
  const shstr = raw[shstrndx];
  const sections: ElfSection[] = raw.map((s, i) => ({ ...s, name: shstr ? cString(bytes, shstr.offset + nameOffsets[i]!) : '' }));

  const symtab = sections.find((s) => s.type === SHT_SYMTAB);
  const table = symtab ?? sections.find((s) => s.type === SHT_DYNSYM);
  const functions = table ? readFunctions(bytes, table, sections[table.link]) : [];

  const irelativeResolvers: number[] = [];
  for (const rela of sections.filter((s) => s.type === SHT_RELA && s.entSize === 24)) {
    for (let at = rela.offset; at + 24 <= rela.offset + rela.size; at += 24) {
      if (Number(bytes.readBigUInt64LE(at + 8) & 0xffffffffn) === R_X86_64_IRELATIVE) irelativeResolvers.push(Number(bytes.readBigInt64LE(at + 16)));
    }
  }

  let isaNeeded: number | undefined;
  for (const note of sections.filter((s) => s.type === SHT_NOTE)) {
    const found = readIsaNeeded(bytes, note);
    if (found !== undefined) isaNeeded = (isaNeeded ?? 0) | found;
  }

  return {
    bytes,
    type: bytes.readUInt16LE(16),
    entry: num(24),
    segments,
    sections,
    functions,
    hasSymtab: symtab !== undefined,
    irelativeResolvers,
    dynamic,
    ...(isaNeeded !== undefined ? { isaNeeded } : {}),
  };
}

/** Executable sections with file contents (.text, .plt, .init ...). */
export function executableSections(elf: ElfFile): ElfSection[] {
  return elf.sections.filter((s) => (s.flags & SHF_EXECINSTR) !== 0 && s.type !== 8 /* NOBITS */ && s.size > 0);
}

/** The file offset of a virtual address inside a loaded segment, or undefined. */
export function fileOffsetOf(elf: ElfFile, vaddr: number): number | undefined {
  const segment = elf.segments.find((s) => vaddr >= s.vaddr && vaddr < s.vaddr + s.fileSize);
  return segment ? vaddr - segment.vaddr + segment.offset : undefined;
}

/** The function symbol covering an address (binary search over sorted symbols). */
export function functionAt(elf: ElfFile, vaddr: number): ElfSymbol | undefined {
  const list = elf.functions;
  let lo = 0;
  let hi = list.length - 1;
  let last = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.value <= vaddr) {
      last = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  // An inner entry point (glibc's __memcpy_* inside __memmove_*) may not cover the address: look back a little.
  for (let i = last; i >= 0 && i > last - 16; i--) {
    const symbol = list[i]!;
    if (vaddr < symbol.value + Math.max(symbol.size, 1)) return symbol;
  }
  return undefined;
}

function readFunctions(bytes: Buffer, table: ElfSection, strings: ElfSection | undefined): ElfSymbol[] {
  const out: ElfSymbol[] = [];
  for (let at = table.offset; at + 24 <= table.offset + table.size; at += 24) {
    const type = bytes[at + 4]! & 0xf;
    const shndx = bytes.readUInt16LE(at + 6);
    if ((type !== STT_FUNC && type !== STT_GNU_IFUNC) || shndx === 0) continue;
    const name = strings ? cString(bytes, strings.offset + bytes.readUInt32LE(at)) : '';
    out.push({ name, value: Number(bytes.readBigUInt64LE(at + 8)), size: Number(bytes.readBigUInt64LE(at + 16)), type });
  }
  // Aliases share an address: keep the sized one first so lookups see a real extent.
  return out.sort((a, b) => a.value - b.value || a.size - b.size);
}

/** GNU property notes: n_namesz, n_descsz, n_type, "GNU\0", then 8-byte aligned (type, size, data) properties. */
function readIsaNeeded(bytes: Buffer, note: ElfSection): number | undefined {
  let found: number | undefined;
  for (let at = note.offset; at + 12 <= note.offset + note.size; ) {
    const nameSize = bytes.readUInt32LE(at);
    const descSize = bytes.readUInt32LE(at + 4);
    const type = bytes.readUInt32LE(at + 8);
    const nameAt = at + 12;
    const descAt = nameAt + align(nameSize, 4);
    if (type === NT_GNU_PROPERTY_TYPE_0 && bytes.toString('latin1', nameAt, nameAt + 3) === 'GNU') {
      for (let p = descAt; p + 8 <= descAt + descSize; ) {
        const prType = bytes.readUInt32LE(p);
        const prSize = bytes.readUInt32LE(p + 4);
        if (prType === GNU_PROPERTY_X86_ISA_1_NEEDED && prSize >= 4) found = (found ?? 0) | bytes.readUInt32LE(p + 8);
        p += 8 + align(prSize, 8);
      }
    }
    at = descAt + align(descSize, type === NT_GNU_PROPERTY_TYPE_0 ? 8 : 4);
  }
  return found;
}

function align(value: number, to: number): number {
  return Math.ceil(value / to) * to;
}

function cString(bytes: Buffer, at: number): string {
  const end = bytes.indexOf(0, at);
  return bytes.toString('latin1', at, end < 0 ? bytes.length : end);
}
