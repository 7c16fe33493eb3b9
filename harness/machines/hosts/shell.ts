import type { BackgroundProcess, ExecOptions, ExecResult } from '../machine.js';

/** Quote one argument for a POSIX shell. */
export function quoteArg(arg: string): string {
  if (/^[\w@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function commandLine(argv: readonly string[]): string {
  return argv.map(quoteArg).join(' ');
}

/** A process whose lines go to a handler of its own rather than to the machine's 'app' output. */
export interface HostBackgroundOptions {
  onLine?: (stream: 'stdout' | 'stderr', text: string) => void;
}

/** A process that runs `script` once its standard input closes: on release, or when the harness or the connection dies. */
export interface Watchdog {
  /** Close its input, wait until the script ran. */
  release(timeoutMs?: number): Promise<ExecResult>;
  /** Close its input without waiting (the exit hook): the script runs on its own. */
  releaseSync?(): void;
}

/**
 * What the physical controls need from a host, local or over SSH: run commands, keep a process
 * running, arm a watchdog, and find bothworlds' static tools on it.
 */
export interface HostShell {
  readonly description: string;
  exec(command: string[], options?: ExecOptions): Promise<ExecResult>;
  background(command: string[], options?: HostBackgroundOptions): Promise<BackgroundProcess>;
  armWatchdog(script: string): Promise<Watchdog>;
  /** Path on the host of a static tool (uploaded once over SSH). */
  toolPath(tool: 'perfProbe' | 'dirtyMem'): Promise<string>;
}

/** The watchdog program: ignore hang-ups and interrupts, wait for EOF, then run the script. */
export function watchdogCommand(script: string): string[] {
  return ['sh', '-c', `trap '' HUP INT TERM PIPE; cat >/dev/null; ${script}`];
}
