import type { Cell } from '../model/cell.js';
import type { ExecResult, StartedMachine } from '../machines/machine.js';
import { describeExit, fatalSignal } from '../core/signal-names.js';
import type { SigillExplanation } from './sigill.js';
import { hostCpuFlags } from './host-flags.js';

/**
 * How the application ended, in words: "was killed by SIGILL (signal 4, illegal instruction) at
 * vpmulld (needs avx2) in avx2 at 0x40152a, which the Nehalem model does not have; the host has it".
 * After a SIGILL the kernel's log names the address; `onSigill` gets what was found (for reports).
 */
export async function explainExit(
  cell: Cell,
  machine: StartedMachine,
  result: Pick<ExecResult, 'exitCode' | 'signal'>,
  onSigill?: (explanation: SigillExplanation) => void,
): Promise<string> {
  const how = describeExit(result);
  if (fatalSignal(result) !== 'SIGILL') return how;
  // Loaded on a SIGILL only: it pulls in the x86 decoder (iced-x86, ~23 MiB RSS).
  const { explainSigill } = await import('./sigill.js');
  const explanation = await explainSigill(cell, machine, hostCpuFlags()).catch((error: unknown) => ({ text: '', unknown: `the faulting instruction could not be read: ${(error as Error).message}` }));
  onSigill?.(explanation);
  return `${how}${explanation.text}${explanation.unknown ? ` (${explanation.unknown})` : ''}`;
}
