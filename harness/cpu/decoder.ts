import { CpuidFeature, Decoder, DecoderOptions, Formatter, FormatterSyntax, Mnemonic, type Instruction } from 'iced-x86';
import { flagOfFeature, IGNORED_FEATURES } from './features.js';

/**
 * x86-64 decoding through iced-x86 (WASM, in process): it names each instruction's CPUID features
 * itself, so no hand-kept mnemonic → extension table can drift, and a whole static binary decodes in
 * ~50 ms. (objdump would need its text parsed and a table of our own.)
 */
export interface DecodedInstruction {
  address: number;
  /** "vpmulld" */
  mnemonic: string;
  /** "vpmulld %ymm1,%ymm0,%ymm0": GNU as syntax, as objdump and gdb print it. */
  text: string;
  length: number;
  /** cpuinfo flags it needs beyond the x86-64 baseline (empty for most instructions). */
  flags: string[];
  /** The CPUID feature names iced gave, before mapping (AVX2, BMI1 ...). */
  features: string[];
  /** lea reg, [rip+disp]: the address it takes (ifunc resolvers hand out candidates this way). */
  leaTarget?: number;
  invalid: boolean;
}

let formatter: Formatter | undefined;

function describe(instr: Instruction, withText = true): DecodedInstruction {
  const mnemonic = (Mnemonic[instr.mnemonic] ?? 'unknown').toLowerCase();
  const features = [...instr.cpuidFeatures()].map((f) => CpuidFeature[f] ?? String(f));
  const flags = [...new Set(features.map((f) => flagOfFeature(f, mnemonic)).filter((f): f is string => f !== undefined))];
  formatter ??= new Formatter(FormatterSyntax.Gas);
  const lea = mnemonic === 'lea' && instr.isIpRelMemoryOperand ? Number(instr.ipRelMemoryAddress) : undefined;
  // Formatting costs more than decoding: only the few instructions shown to a person need it.
  const text = withText ? formatter.format(instr) : '';
  return {
    address: Number(instr.ip),
    mnemonic,
    text,
    length: instr.length,
    flags,
    features,
    ...(lea !== undefined ? { leaTarget: lea } : {}),
    invalid: instr.isInvalid,
  };
}

/** Decode the one instruction at the start of `bytes` (which sits at `address`). */
export function decodeAt(bytes: Uint8Array, address: number): DecodedInstruction {
  const decoder = new Decoder(64, bytes.subarray(0, 15), DecoderOptions.None);
  decoder.ip = BigInt(address);
  const instr = decoder.decode();
  try {
    return describe(instr);
  } finally {
    instr.free();
    decoder.free();
  }
}

/**
 * Linear disassembly of `bytes` (at `address`), calling `visit` for cpuid and for instructions that
 * need a feature beyond the baseline (the rest are only counted). Stops at `deadline` (performance.now()) and says how many bytes it covered.
 */
export function scanCode(
  bytes: Uint8Array,
  address: number,
  deadline: number,
  /** `format()` gives the instruction's text; valid only during the call. */
  visit: (instruction: DecodedInstruction, format: () => string) => void,
): { bytesScanned: number; instructions: number; complete: boolean } {
  const decoder = new Decoder(64, bytes, DecoderOptions.None);
  decoder.ip = BigInt(address);
  const instr = decoder.decode();
  let count = 0;
  try {
    // decode() above consumed the first instruction: rewind to decode it again in the loop.
    decoder.position = 0;
    decoder.ip = BigInt(address);
    while (decoder.canDecode) {
      if ((count & 0xfff) === 0 && performance.now() > deadline) return { bytesScanned: decoder.position, instructions: count, complete: false };
      decoder.decodeOut(instr);
      count++;
      const features = instr.cpuidFeatures();
      // Baseline-only instructions (X64, SSE2 ...) are by far the common case: skip them cheaply.
      if (instr.mnemonic !== Mnemonic.Cpuid && features.every(isBaseline)) continue;
      visit(describe(instr, false), () => formatter!.format(instr));
    }
    return { bytesScanned: bytes.length, instructions: count, complete: true };
  } finally {
    instr.free();
    decoder.free();
  }
}

const baseline = new Set<number>([...IGNORED_FEATURES].map((name) => CpuidFeature[name as keyof typeof CpuidFeature] as number));

function isBaseline(feature: number): boolean {
  return baseline.has(feature);
}
