import { execa, type ResultPromise } from 'execa';
import { InfrastructureError } from '../../core/errors.js';
import type { ResourceScope } from '../../core/scope.js';
import type { LineBuffer } from '../line-source.js';
import { QEMU_BINARY } from './binary.js';

export interface QemuExit {
  exitCode: number | undefined;
  signal: string | undefined;
  /** True when bothworlds asked QEMU to go (quit, kill during teardown). */
  expected: boolean;
}

/**
 * One QEMU process. Started in its own process group (a terminal's Ctrl+C reaches the harness, not
 * QEMU, so teardown stays ordered) and with a parent-death signal (`setpriv --pdeathsig KILL`) so
 * even a SIGKILLed harness leaves no orphan VM.
 */
export class QemuProcess {
  readonly pid: number;
  readonly stderrLines: string[] = [];
  /** Resolves when QEMU exits, for whatever reason. Never rejects. */
  readonly exited: Promise<QemuExit>;
  private stopping = false;
  private exitInfo: QemuExit | undefined;

  private constructor(
    readonly argv: string[],
    private readonly child: ResultPromise,
    console: LineBuffer,
  ) {
    if (child.pid === undefined) throw new InfrastructureError('QEMU_LAUNCH', `could not start ${QEMU_BINARY}`);
    this.pid = child.pid;
    child.stdout?.on('data', (chunk: Buffer) => console.feed('console', chunk));
    child.stderr?.setEncoding('utf8');
    let partial = '';
    child.stderr?.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) if (this.stderrLines.push(line) > 500) this.stderrLines.shift();
    });
    this.exited = child.then(
      (result) => result,
      (error: unknown) => error as { exitCode?: number; signal?: string },
    ).then((result) => {
      console.flush('console');
      if (partial) this.stderrLines.push(partial);
      this.exitInfo = { exitCode: result.exitCode, signal: result.signal ?? undefined, expected: this.stopping };
      return this.exitInfo;
    });
  }

  static launch(args: string[], options: { scope: ResourceScope; console: LineBuffer; name: string }): QemuProcess {
    const argv = [QEMU_BINARY, ...args];
    const child = execa('setpriv', ['--pdeathsig', 'KILL', '--', ...argv], {
      detached: true,
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
      reject: false,
      buffer: false,
      cleanup: true,
    });
    const qemu = new QemuProcess(argv, child, options.console);
    // Registered before anything awaits it.
    options.scope.register({
      name: `qemu ${options.name} (pid ${qemu.pid})`,
      kind: 'process',
      dispose: () => qemu.kill(),
      disposeSync: () => qemu.killSync(),
    });
    return qemu;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  get exit(): QemuExit | undefined {
    return this.exitInfo;
  }

  /** Mark the coming exit as requested (before sending `quit`). */
  expectExit(): void {
    this.stopping = true;
  }

  /** SIGTERM, then SIGKILL after a grace period; resolves when the process is gone. */
  async kill(graceMs = 1_000): Promise<void> {
    this.stopping = true;
    if (!this.running) return;
    this.signalGroup('SIGTERM');
    const timer = setTimeout(() => this.signalGroup('SIGKILL'), graceMs);
    timer.unref();
    await this.exited;
    clearTimeout(timer);
  }

  killSync(): void {
    this.stopping = true;
    if (this.running) this.signalGroup('SIGKILL');
  }

  stderrTail(lines = 20): string {
    return this.stderrLines.slice(-lines).join('\n');
  }

  private signalGroup(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, signal);
    } catch {
      try {
        process.kill(this.pid, signal);
      } catch {
        // Already gone.
      }
    }
  }
}
