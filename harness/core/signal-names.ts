import { constants } from 'node:os';

/** What each fatal signal means, as a person reading a red cell needs it said. */
const MEANING: Record<string, string> = {
  SIGILL: 'illegal instruction',
  SIGSEGV: 'segmentation fault',
  SIGBUS: 'bus error',
  SIGFPE: 'arithmetic exception',
  SIGABRT: 'aborted',
  SIGTRAP: 'trace/breakpoint trap',
  SIGSYS: 'bad system call',
  SIGKILL: 'killed',
  SIGTERM: 'terminated',
  SIGINT: 'interrupted',
  SIGHUP: 'hang-up',
  SIGPIPE: 'broken pipe',
  SIGXCPU: 'CPU time limit exceeded',
  SIGXFSZ: 'file size limit exceeded',
};

const byNumber = new Map<number, string>(Object.entries(constants.signals).map(([name, number]) => [number, name]));

/** A signal given by name ('SIGILL', 'ILL') or Linux number (4 or '4') → its name and number. */
export function signalOf(signal: string | number): { name: string; number?: number } {
  // The guest agent reports a number; some backends pass it on as a string ("4").
  if (typeof signal === 'string' && /^\d+$/.test(signal)) signal = Number(signal);
  if (typeof signal === 'number') return { name: byNumber.get(signal) ?? `SIG${signal}`, number: signal };
  const name = signal.startsWith('SIG') ? signal : `SIG${signal}`;
  const number = (constants.signals as Record<string, number>)[name];
  return number === undefined ? { name } : { name, number };
}

/** "SIGILL (signal 4, illegal instruction)" */
export function describeSignal(signal: string | number): string {
  const { name, number } = signalOf(signal);
  const details = [number !== undefined ? `signal ${number}` : '', MEANING[name] ?? ''].filter(Boolean);
  return details.length ? `${name} (${details.join(', ')})` : name;
}

/**
 * How a process ended, for every message that reports an exit: "was killed by SIGILL (signal 4,
 * illegal instruction)" or "exited with code 3". A shell reports a command killed by signal N as
 * exit code 128+N: that is said too, since the signal is what a person needs.
 */
export function describeExit(result: { exitCode: number | null; signal?: string | undefined }): string {
  if (result.signal) return `was killed by ${describeSignal(result.signal)}`;
  if (result.exitCode === null) return 'ended without an exit code';
  const code = result.exitCode;
  if (code > 128 && code < 128 + 65 && byNumber.has(code - 128)) return `exited with code ${code} (a shell's 128 + ${code - 128}: its command was killed by ${describeSignal(code - 128)})`;
  return `exited with code ${code}`;
}

/** The signal behind an exit, directly or through a shell's 128+N. */
export function fatalSignal(result: { exitCode: number | null; signal?: string | undefined }): string | undefined {
  if (result.signal) return signalOf(result.signal).name;
  if (result.exitCode !== null && result.exitCode > 128 && result.exitCode < 128 + 65) return byNumber.get(result.exitCode - 128);
  return undefined;
}
