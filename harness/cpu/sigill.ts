import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { execa } from 'execa';
import type { Cell } from '../model/cell.js';
import type { StartedMachine } from '../machines/machine.js';
import { decodeAt } from './decoder.js';
import { parseElf } from './elf.js';

/**
 * One `traps:` line of the kernel log, printed when a process without a SIGILL handler executes an
 * invalid opcode (show_unhandled_signals, on by default):
 *   traps: avx2[231] trap invalid opcode ip:401516 sp:7ffd5e0e5d40 error:0 in avx2[401000+77000]
 * Newer kernels print the offset too: in avx2[1516,401000+77000].
 */
export interface InvalidOpcodeTrap {
  comm: string;
  pid: number;
  ip: number;
  /** The mapping the address fell in: its file's name, start and size. */
  file?: string;
  base?: number;
  size?: number;
}

const TRAP = /traps: (.+?)\[(\d+)\] trap invalid opcode ip:([0-9a-f]+) sp:[0-9a-f]+ error:[0-9a-f]+(?: in (.+?)\[(?:[0-9a-f]+,)?([0-9a-f]+)\+([0-9a-f]+)\])?/;

export function parseInvalidOpcodeTraps(text: string): InvalidOpcodeTrap[] {
  const out: InvalidOpcodeTrap[] = [];
  for (const line of text.split('\n')) {
    const m = TRAP.exec(line);
    if (!m) continue;
    out.push({
      comm: m[1]!,
      pid: Number(m[2]),
      ip: parseInt(m[3]!, 16),
      ...(m[4] ? { file: m[4], base: parseInt(m[5]!, 16), size: parseInt(m[6]!, 16) } : {}),
    });
  }
  return out;
}

export interface FaultingInstruction {
  /** "vpmulld" */
  instruction: string;
  text: string;
  /** cpuinfo flags it needs beyond the baseline: the ones the CPU lacked. */
  flags: string[];
  file: string;
  /** The address in the file's own numbering (as objdump shows it). */
  address: string;
}

/**
 * The instruction at a trap's address, read from the file on this host: the mapping's start and
 * the ELF's executable PT_LOAD give the load bias (0 for non-PIE executables), so the file offset
 * is ip - bias - segment vaddr + segment offset.
 */
export function instructionAtTrap(trap: InvalidOpcodeTrap, fileBytes: Buffer): FaultingInstruction | undefined {
  if (trap.base === undefined || !trap.file) return undefined;
  const elf = parseElf(fileBytes, trap.file);
  for (const segment of elf.segments.filter((s) => s.executable)) {
    const bias = trap.base - Math.floor(segment.vaddr / 4096) * 4096;
    const vaddr = trap.ip - bias;
    if (vaddr < segment.vaddr || vaddr >= segment.vaddr + segment.fileSize) continue;
    const offset = vaddr - segment.vaddr + segment.offset;
    const decoded = decodeAt(fileBytes.subarray(offset, offset + 15), vaddr);
    return { instruction: decoded.mnemonic, text: decoded.text, flags: decoded.flags, file: trap.file, address: `0x${vaddr.toString(16)}` };
  }
  return undefined;
}

/**
 * The kernel's log where the application ran: the console lines the machine kept (guests whose
 * console is not quiet), then `dmesg` on the machine (through the guest agent, or on the host for
 * local, container and SSH machines, which share or are that kernel).
 */
export async function readKernelLog(machine: StartedMachine): Promise<string> {
  const consoleText = machine.output.lines.filter((l) => l.source === 'console').map((l) => l.text).join('\n');
  if (TRAP.test(consoleText)) return consoleText;
  const result = machine.backend === 'container'
    ? await execa('dmesg', [], { reject: false, timeout: 10_000 }).then((r) => ({ stdout: r.stdout, exitCode: r.exitCode ?? null }))
    : await machine.exec(['dmesg'], { timeoutMs: 10_000 });
  return result.stdout;
}

export interface SigillExplanation {
  /** " at vpmulld (needs avx2), which the Nehalem model does not have; the host has it" */
  text: string;
  fault?: FaultingInstruction;
  /** Why the instruction could not be named. */
  unknown?: string;
}

/** After a SIGILL: which instruction, which flag, and whether this machine's CPU and the host's have it. */
export async function explainSigill(cell: Cell, machine: StartedMachine, hostFlags: string[]): Promise<SigillExplanation> {
  let log: string;
  try {
    log = await readKernelLog(machine);
  } catch (error) {
    return { text: '', unknown: `the kernel log could not be read: ${(error as Error).message}` };
  }
  const traps = parseInvalidOpcodeTraps(log);
  const files = new Map(cell.app.files.map((f) => [basename(f), f]));
  // The newest trap in one of the application's files; the kernel names the mapping by its file name.
  const trap = [...traps].reverse().find((t) => t.file && files.has(t.file)) ?? traps.at(-1);
  if (!trap) return { text: '', unknown: 'the kernel logged no "trap invalid opcode" line (a SIGILL handler, or show_unhandled_signals off)' };
  const hostPath = trap.file ? files.get(trap.file) : undefined;
  if (!hostPath) return { text: ` at ip 0x${trap.ip.toString(16)} in ${trap.file ?? 'an unnamed mapping'}`, unknown: `${trap.file ?? 'the mapping'} is not among app.files, so its bytes are not here to decode` };
  const fault = instructionAtTrap(trap, await readFile(hostPath));
  if (!fault) return { text: ` at ip 0x${trap.ip.toString(16)} in ${trap.file}`, unknown: `0x${trap.ip.toString(16)} lies in no executable segment of ${trap.file}` };
  const guestFlags = new Set((await machine.facts().catch(() => undefined))?.cpuFlags ?? []);
  const cpu = cpuName(cell);
  const needs = fault.flags.length ? ` (needs ${fault.flags.join(', ')})` : '';
  const lacked = fault.flags.filter((f) => !guestFlags.has(f));
  const onHost = lacked.length ? (lacked.every((f) => hostFlags.includes(f)) ? '; the host has it' : '; the host lacks it too') : '';
  const which = lacked.length ? `, which ${cpu} does not have${onHost}` : '';
  return { text: ` at ${fault.instruction}${needs} in ${fault.file} at ${fault.address}${which}`, fault };
}

/** "the Nehalem model", "this host", "host lab-1". */
export function cpuName(cell: Cell): string {
  if (cell.backend === 'ssh') return `host ${cell.host?.name ?? 'over SSH'}`;
  if (cell.backend === 'local' || cell.backend === 'container' || cell.machine.cpuModel.startsWith('host')) return 'this host';
  return `the ${cell.machine.cpuModel} model`;
}
