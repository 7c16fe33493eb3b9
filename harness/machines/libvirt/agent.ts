import type { ExecResult } from '../machine.js';
import type { GuestExecStatus, GuestVcpu } from '../../qga/client.js';
import { guestExecArguments, runToCompletion } from '../../qga/exec.js';
import { readGuestFile, writeGuestFile } from '../../qga/files.js';
import { AgentError } from '../../qga/errors.js';
import { InfrastructureError } from '../../core/errors.js';
import { virsh } from './virsh.js';
import { ambientTranscript } from '../../core/transcript.js';

/**
 * The guest agent as libvirt exposes it: `virsh qemu-agent-command` (libvirt owns the agent's
 * socket). Exec and file transfer reuse the socket agent's transport-free logic.
 */
export class VirshAgent {
  /** The cell's transcript, if one records (taken when the machine is made). */
  private readonly recorder = ambientTranscript();

  constructor(
    public uri: string,
    readonly domain: string,
  ) {}

  async command<T>(name: string, args?: Record<string, unknown>, options: { timeoutMs?: number } = {}): Promise<T> {
    const timeoutS = Math.max(1, Math.ceil((options.timeoutMs ?? 30_000) / 1000));
    const request = JSON.stringify({ execute: name, ...(args ? { arguments: args } : {}) });
    this.recorder?.record('agent', `qga:${this.domain}`, '>', request);
    let text: string;
    try {
      text = await virsh(this.uri, ['qemu-agent-command', this.domain, '--timeout', String(timeoutS), request], { timeoutMs: (timeoutS + 10) * 1000 });
      this.recorder?.record('agent', `qga:${this.domain}`, '<', text.trim());
    } catch (error) {
      const message = (error as Error).message;
      this.recorder?.record('agent', `qga:${this.domain}`, '!', message);
      const guestError = /internal error: unable to execute QEMU agent command '[^']+': (.*)/.exec(message);
      if (guestError) throw new AgentError(name, 'GenericError', guestError[1]!);
      throw error;
    }
    const reply = JSON.parse(text) as { return?: T; error?: { class: string; desc: string } };
    if (reply.error) throw new AgentError(name, reply.error.class, reply.error.desc);
    return reply.return as T;
  }

  /** Wait until the agent answers (the guest finished booting). */
  async waitUntilAnswering(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    let last: unknown;
    while (performance.now() < deadline) {
      try {
        await this.command('guest-ping', undefined, { timeoutMs: 2_000 });
        return;
      } catch (error) {
        last = error;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    throw new InfrastructureError('BOOT_TIMEOUT', `the guest agent of ${this.domain} did not answer within ${timeoutMs} ms`, { cause: last });
  }

  execStart(command: string[], options: { input?: string | Buffer; env?: Record<string, string> } = {}): Promise<number> {
    return this.command<{ pid: number }>('guest-exec', guestExecArguments(command, options)).then((r) => r.pid);
  }

  execStatus(pid: number): Promise<GuestExecStatus> {
    return this.command('guest-exec-status', { pid });
  }

  exec(command: string[], options: { timeoutMs?: number; input?: string | Buffer; env?: Record<string, string> } = {}): Promise<ExecResult> {
    return runToCompletion(this, command, options);
  }

  writeFile(path: string, data: Buffer | string, mode?: number): Promise<void> {
    return writeGuestFile(this, path, data, mode);
  }

  readFile(path: string): Promise<Buffer> {
    return readGuestFile(this, path);
  }

  getVcpus(): Promise<GuestVcpu[]> {
    return this.command('guest-get-vcpus');
  }
}
