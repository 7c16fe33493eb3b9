import { execa, type ResultPromise } from 'execa';
import { InfrastructureError } from '../../core/errors.js';
import { withDeadline } from '../../core/deadline.js';
import { applicationEnvironment } from '../../core/app-environment.js';
import type { BackgroundProcess, ExecOptions, ExecResult } from '../machine.js';
import { OutputTail } from '../output-tail.js';

const KEEP_OUTPUT = 1 << 20;
const KILL_GRACE_MS = 2_000;

/** Run a command on this host to completion; a failure has the same shape as a success. */
export async function execLocal(command: string[], options: ExecOptions & { cwd?: string } = {}): Promise<ExecResult> {
  const [file, ...args] = command;
  if (!file) throw new InfrastructureError('EXEC', 'exec needs a command');
  const result = await execa(file, args, {
    reject: false,
    stripFinalNewline: false,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.timeoutMs ? { timeout: options.timeoutMs, forceKillAfterDelay: KILL_GRACE_MS } : {}),
    // Given an environment, the program gets that and the documented basics, never the harness's own.
    ...(options.env ? { env: applicationEnvironment(options.env), extendEnv: false } : {}),
    ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' as const }),
    ...(options.signal ? { cancelSignal: options.signal } : {}),
  });
  if (result.exitCode === undefined && !result.signal && !result.timedOut && !result.isCanceled) {
    throw new InfrastructureError('EXEC', `could not start ${command.join(' ')}: ${result.originalMessage ?? result.shortMessage}`, { cause: result.cause });
  }
  return {
    command,
    exitCode: result.exitCode ?? null,
    ...(result.signal ? { signal: result.signal.replace(/^SIG/, '') } : {}),
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    durationMs: result.durationMs,
    timedOut: result.timedOut,
  };
}

export interface LocalChild extends BackgroundProcess {
  /** Resolves when the process exits and its output ends (what it left running may hold the pipes). */
  readonly exited: Promise<ExecResult>;
  /** Resolves when the process itself exits, whoever still holds its output. */
  readonly leaderExited: Promise<void>;
  /** Close the child's standard input (watchdogs run their script on EOF). */
  endInput(): void;
  /** Synchronous SIGKILL of the child's process group, for the exit hook. */
  killSync(): void;
}

/**
 * Start a command in its own process group (so a kill reaches its children, and a Ctrl+C meant
 * for the harness does not reach it first). Output goes to `onData` as it arrives.
 */
export function spawnLocal(
  command: string[],
  options: { env?: Record<string, string>; cwd?: string; stdin?: 'ignore' | 'pipe'; onData?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void } = {},
): Promise<LocalChild> {
  const [file, ...args] = command;
  if (!file) return Promise.reject(new InfrastructureError('SPAWN', 'spawn needs a command'));
  const started = performance.now();
  const child: ResultPromise = execa(file, args, {
    reject: false,
    buffer: false,
    detached: true,
    cleanup: false,
    stdin: options.stdin ?? 'ignore',
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.env ? { env: applicationEnvironment(options.env), extendEnv: false } : {}),
  });
  const output = { stdout: new OutputTail(KEEP_OUTPUT), stderr: new OutputTail(KEEP_OUTPUT) };
  for (const stream of ['stdout', 'stderr'] as const) {
    child[stream]?.on('data', (chunk: Buffer) => {
      output[stream].add(chunk);
      options.onData?.(stream, chunk);
    });
  }
  let exited = false;
  const leaderExited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const finished: Promise<ExecResult> = child.then((result) => {
    exited = true;
    return {
      command,
      exitCode: result.exitCode ?? null,
      ...(result.signal ? { signal: result.signal.replace(/^SIG/, '') } : {}),
      stdout: output.stdout.text(),
      stderr: output.stderr.text(),
      durationMs: performance.now() - started,
      timedOut: false,
    };
  });
  const signalGroup = (signal: NodeJS.Signals): void => {
    if (exited || child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  };
  return new Promise((resolve, reject) => {
    child.once('spawn', () =>
      resolve({
        pid: child.pid!,
        exited: finished,
        leaderExited,
        wait: (timeoutMs) => withDeadline(finished, timeoutMs, `process ${child.pid} (${command.join(' ')}) to exit`),
        isRunning: async () => !exited,
        async kill(signal = 'TERM') {
          signalGroup(`SIG${signal}`);
          if (signal === 'TERM') {
            const timer = setTimeout(() => signalGroup('SIGKILL'), KILL_GRACE_MS);
            await finished;
            clearTimeout(timer);
          } else await finished;
        },
        endInput: () => child.stdin?.end(),
        killSync: () => signalGroup('SIGKILL'),
      }),
    );
    child.once('error', (error) => reject(new InfrastructureError('SPAWN', `could not start ${command.join(' ')}: ${error.message}`, { cause: error })));
  });
}
