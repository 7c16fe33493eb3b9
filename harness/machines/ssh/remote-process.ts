import type { Client, ClientChannel } from 'ssh2';
import { InfrastructureError } from '../../core/errors.js';
import { commandLine } from '../hosts/shell.js';
import { OutputTail } from '../output-tail.js';

const KEEP_OUTPUT = 1 << 20;
const PID_MARKER = '@@bwpid ';

export interface RemoteRun {
  /** The remote process id (the shell execs the command, so it is the command's pid). */
  readonly pid: number;
  readonly channel: ClientChannel;
  /** Resolves when the channel closes: the process exited and its output is drained. */
  readonly done: Promise<{ exitCode: number | null; signal?: string; stdout: string; stderr: string }>;
  readonly closed: () => boolean;
}

/**
 * Start `argv` on the host in `cwd` through one exec channel. The remote shell prints its pid
 * first and then execs the command, so the harness can signal exactly that process later.
 * Environment variables go through `env -i` (sshd's AcceptEnv usually refuses setenv requests): a
 * program given an environment gets that and the host's PATH, HOME and LANG, nothing else.
 */
export function startRemote(
  client: Client,
  argv: string[],
  options: { cwd?: string; env?: Record<string, string>; onData?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void } = {},
): Promise<RemoteRun> {
  const env = Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`);
  const command = [
    options.cwd ? `cd ${commandLine([options.cwd])} || exit 127;` : '',
    `echo "${PID_MARKER}$$";`,
    // With an environment (the application's): that, plus the host's PATH and HOME and LANG, and nothing else of the session.
    `exec ${env.length ? `env -i HOME="$HOME" PATH="$PATH" LANG=C.UTF-8 ${commandLine(env)} ` : ''}${commandLine(argv)}`,
  ].join(' ');
  return new Promise((resolve, reject) => {
    const opened = (error: Error | undefined, channel: ClientChannel): void => {
      if (error) return reject(new InfrastructureError('SSH_EXEC', `opening an exec channel for ${argv.join(' ')} failed: ${error.message}`, { cause: error }));
      const output = { stdout: new OutputTail(KEEP_OUTPUT), stderr: new OutputTail(KEEP_OUTPUT) };
      let head = '';
      let pid: number | undefined;
      let status: { exitCode: number | null; signal?: string } = { exitCode: null };
      let isClosed = false;
      channel.on('exit', (code: number | null, signal?: string) => {
        status = { exitCode: code ?? null, ...(signal ? { signal: signal.replace(/^SIG/, '') } : {}) };
      });
      const take = (stream: 'stdout' | 'stderr', chunk: Buffer): void => {
        output[stream].add(chunk);
        options.onData?.(stream, chunk);
      };
      channel.on('data', (chunk: Buffer) => {
        if (pid !== undefined) return take('stdout', chunk);
        head += chunk.toString('latin1');
        const newline = head.indexOf('\n');
        if (newline < 0) return;
        const marker = head.slice(0, newline);
        pid = marker.startsWith(PID_MARKER) ? Number(marker.slice(PID_MARKER.length)) : -1;
        const rest = Buffer.from(head.slice(newline + 1), 'latin1');
        if (rest.length) take('stdout', rest);
        resolve(run);
      });
      channel.stderr.on('data', (chunk: Buffer) => take('stderr', chunk));
      const done = new Promise<{ exitCode: number | null; signal?: string; stdout: string; stderr: string }>((settle) => {
        channel.on('close', () => {
          isClosed = true;
          settle({ ...status, stdout: output.stdout.text(), stderr: output.stderr.text() });
          if (pid === undefined) {
            pid = -1;
            resolve(run);
          }
        });
      });
      const run: RemoteRun = {
        get pid() {
          return pid ?? -1;
        },
        channel,
        done,
        closed: () => isClosed,
      };
    };
    try {
      client.exec(command, opened);
    } catch (error) {
      // ssh2 throws "Not connected" synchronously once the connection is gone.
      reject(new InfrastructureError('SSH_LOST', `cannot run ${argv.join(' ')}: the SSH connection is gone (${(error as Error).message})`, { cause: error }));
    }
  });
}
