import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationError, DeadlineError } from '../core/errors.js';
import type { BackgroundProcess, ExecResult, StartedMachine } from '../machines/machine.js';

type UnitMachine = Pick<StartedMachine, 'exec' | 'spawn'>;

/** `systemctl is-active` states in which the unit counts as running (activating = restarting after a crash). */
const RUNNING_STATES = new Set(['active', 'reloading']);

/**
 * Run a systemd unit as the application: its journal is followed onto the app output (so `ready:`
 * patterns and reports see it), it is (re)started with systemctl — a package's unit is usually
 * enabled and already running at boot, and a restart gives the harness its start — and it counts
 * as running while `systemctl is-active` says active. The cell's environment goes to the manager
 * (`systemctl set-environment`), which passes it to units started after.
 */
export async function startUnit(machine: UnitMachine, unit: string, options: { timeoutMs: number; env?: Record<string, string> }): Promise<BackgroundProcess> {
  // A cursor taken before the restart: the follower shows every line after it, however late it starts.
  const cursor = /^-- cursor: (.+)$/m.exec((await machine.exec(['journalctl', '-q', '-n', '0', '--show-cursor'], { timeoutMs: 20_000 })).stdout)?.[1];
  const follower = await machine.spawn(['journalctl', '-q', '-f', '-o', 'cat', '-u', unit, ...(cursor ? [`--after-cursor=${cursor}`] : ['-n', '0'])]);
  try {
    const env = Object.entries(options.env ?? {}).map(([key, value]) => `${key}=${value}`);
    if (env.length > 0) await machine.exec(['systemctl', 'set-environment', ...env], { timeoutMs: 20_000 });
    const started = await machine.exec(['systemctl', 'restart', unit], { timeoutMs: options.timeoutMs });
    if (started.exitCode !== 0) {
      const status = await machine.exec(['systemctl', 'status', '--no-pager', '-n', '5', unit], { timeoutMs: 20_000 });
      throw new ApplicationError('UNIT_START', `systemctl restart ${unit} failed (exit ${started.exitCode}): ${started.stderr.trim() || started.stdout.trim()}`, {
        details: { status: status.stdout.trim().split('\n').slice(0, 20).join('\n') },
      });
    }
    const pid = Number((await machine.exec(['systemctl', 'show', '-p', 'MainPID', '--value', unit], { timeoutMs: 20_000 })).stdout.trim()) || 0;
    return new UnitProcess(machine, unit, pid, follower);
  } catch (error) {
    await follower.kill('TERM').catch(() => undefined);
    throw error;
  }
}

class UnitProcess implements BackgroundProcess {
  private result: ExecResult | undefined;
  private readonly started = performance.now();

  constructor(
    private readonly machine: UnitMachine,
    private readonly unit: string,
    readonly pid: number,
    private readonly follower: BackgroundProcess,
  ) {}

  async isRunning(): Promise<boolean> {
    if (this.result) return false;
    const state = await this.machine.exec(['systemctl', 'is-active', this.unit], { timeoutMs: 20_000 });
    return RUNNING_STATES.has(state.stdout.trim());
  }

  /** Polls `systemctl is-active` (no event reaches the host when a unit stops), up to once a second. */
  async wait(timeoutMs: number): Promise<ExecResult> {
    const deadline = performance.now() + timeoutMs;
    let interval = 100;
    while (!this.result) {
      if (!(await this.isRunning())) return this.finish();
      if (performance.now() > deadline) throw new DeadlineError(`unit ${this.unit} to stop`, timeoutMs);
      await sleep(interval);
      interval = Math.min(interval * 2, 1_000);
    }
    return this.result;
  }

  async kill(signal: 'TERM' | 'KILL' = 'TERM'): Promise<void> {
    if (this.result) return;
    const command = signal === 'TERM' ? ['systemctl', 'stop', this.unit] : ['systemctl', 'kill', '--signal=KILL', this.unit];
    await this.machine.exec(command, { timeoutMs: 60_000 });
  }

  /** The unit's main process exit status as systemd recorded it; the journal follower ends with it. */
  private async finish(): Promise<ExecResult> {
    if (this.result) return this.result;
    const shown = await this.machine.exec(['systemctl', 'show', '-p', 'ExecMainStatus', '-p', 'Result', '-p', 'ActiveState', this.unit], { timeoutMs: 20_000 });
    const props = Object.fromEntries(shown.stdout.trim().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
    await this.follower.kill('TERM').catch(() => undefined);
    this.result ??= {
      command: ['systemctl', 'restart', this.unit],
      exitCode: Number(props.ExecMainStatus ?? 0),
      stdout: '',
      stderr: props.Result && props.Result !== 'success' ? `unit ${this.unit} ended: ${props.Result} (${props.ActiveState})` : '',
      durationMs: performance.now() - this.started,
      timedOut: false,
    };
    return this.result;
  }
}
