import { setTimeout as sleep } from 'node:timers/promises';
import { DeadlineError } from '../../core/errors.js';
import type { GuestAgent } from '../../qga/client.js';
import { runToCompletion, type ExecTransport } from '../../qga/exec.js';
import type { LineBuffer } from '../line-source.js';
import type { BackgroundProcess, ExecOptions, ExecResult } from '../machine.js';

/**
 * The application's output goes to the `bothworlds.app` virtio-serial port, which the harness
 * reads line by line as it is written; guest-exec's own capture only returns output at exit.
 * Images without the port (a user's disk image) fall back to that capture.
 */
const WRAPPER = 'if [ -e /dev/bothworlds-app ]; then exec "$@" >/dev/bothworlds-app 2>&1; else exec "$@"; fi';

export const GUEST_PATH = '/opt/bothworlds/bin:/opt/bothworlds/app:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** What running a guest process needs from an agent (the socket agent, or libvirt's through virsh). */
export type ProcessAgent = Pick<GuestAgent, 'execStart' | 'execStatus' | 'exec'>;

/**
 * Start `command` in the guest. `agent` is the machine's agent as seen through its handover gate
 * (AgentMachine.followingAgent): every status poll reaches the guest where it runs now, so the
 * process is followed across a live migration.
 */
export async function spawnInGuest(
  agent: ExecTransport,
  lines: LineBuffer,
  command: string[],
  options: ExecOptions = {},
): Promise<BackgroundProcess> {
  // guest-exec replaces the whole environment when one is given: keep PATH and HOME.
  const env = options.env ? { PATH: GUEST_PATH, HOME: '/root', ...options.env } : undefined;
  const pid = await agent.execStart(['/bin/sh', '-c', WRAPPER, 'bw-app', ...command], env ? { env } : {});
  return new GuestProcess(agent, lines, command, pid);
}

class GuestProcess implements BackgroundProcess {
  private result: ExecResult | undefined;
  private readonly started = performance.now();

  constructor(
    private readonly agent: ExecTransport,
    private readonly lines: LineBuffer,
    private readonly command: string[],
    readonly pid: number,
  ) {}

  async wait(timeoutMs: number): Promise<ExecResult> {
    const deadline = performance.now() + timeoutMs;
    let interval = 10;
    while (!this.result) {
      if (await this.poll()) break;
      if (performance.now() > deadline) throw new DeadlineError(`guest process ${this.pid} (${this.command[0]}) to exit`, timeoutMs);
      await sleep(interval);
      interval = Math.min(interval * 2, 100);
    }
    return this.result!;
  }

  async isRunning(): Promise<boolean> {
    return !(await this.poll());
  }

  async kill(signal: 'TERM' | 'KILL' = 'TERM'): Promise<void> {
    if (this.result) return;
    await runToCompletion(this.agent, ['kill', `-${signal}`, String(this.pid)], { timeoutMs: 5_000 });
  }

  /** True once exited; records the result the first time. */
  /**
   * One guest-exec-status in flight at a time: qemu-ga forgets a pid once it has reported its exit,
   * so a second concurrent poll (the timeline's "app ended" watch next to the final wait) would be
   * told the pid is invalid.
   */
  private poll(): Promise<boolean> {
    if (this.result) return Promise.resolve(true);
    this.polling ??= this.pollOnce().finally(() => (this.polling = undefined));
    return this.polling;
  }

  private polling: Promise<boolean> | undefined;

  private async pollOnce(): Promise<boolean> {
    if (this.result) return true;
    const status = await this.agent.execStatus(this.pid);
    if (!status.exited) return false;
    const stdout = decode(status['out-data']);
    const stderr = decode(status['err-data']);
    // Only images without the app port return output here; feed it as app lines all the same.
    for (const text of [stdout, stderr]) if (text) this.lines.feed('app', text.endsWith('\n') ? text : `${text}\n`);
    this.result = {
      command: this.command,
      exitCode: status.signal !== undefined ? null : (status.exitcode ?? null),
      signal: status.signal !== undefined ? String(status.signal) : undefined,
      stdout,
      stderr,
      durationMs: performance.now() - this.started,
      timedOut: false,
    };
    return true;
  }
}

function decode(base64: string | undefined): string {
  return base64 ? Buffer.from(base64, 'base64').toString('utf8') : '';
}
