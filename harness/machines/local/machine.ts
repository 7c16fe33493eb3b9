import { mkdtempSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { DeadlineError } from '../../core/errors.js';
import { withDeadline } from '../../core/deadline.js';
import { ensureTools } from '../../images/tools.js';
import type { MachineFacts } from '../../model/facts.js';
import { metric, type Metrics } from '../../model/metrics.js';
import { ResourceScope } from '../../run/resources.js';
import { collectFacts } from '../facts.js';
import { LineBuffer } from '../line-source.js';
import type { BackgroundProcess, ExecOptions, ExecResult, MachineControls, StartedMachine } from '../machine.js';
import { HostCpuControl } from '../physical/cpu-online.js';
import { createMemoryPressure } from '../physical/memory-pressure.js';

const NOT_PHYSICAL: MachineControls['unsupportedReason'] = {
  migrate: 'a physical host cannot be live-migrated',
  balloon: 'a physical host has no balloon; use memory-pressure',
  memory: 'physical memory cannot be hot-plugged from software (and memory blocks cannot be offlined here)',
  pause: 'pausing the whole host is not an event bothworlds injects',
  clock: 'bothworlds does not set the clock of a physical host',
};

/** This host as a machine: the same facts, suites and (physical) events as a guest. */
export class LocalMachine implements StartedMachine {
  readonly backend = 'local' as const;
  readonly accel = 'none' as const;
  readonly output = new LineBuffer();
  readonly controls: MachineControls;
  readonly startMetrics: Metrics;

  constructor(
    readonly name: string,
    readonly payloadDir: string,
    private readonly scope: ResourceScope,
    private readonly toolsDir: string,
    cpuControl: HostCpuControl | undefined,
    cpuReason: string | undefined,
  ) {
    const pressure = createMemoryPressure(this, async () => (await ensureTools()).dirtyMem);
    scope.register({ name: `memory pressure on ${name}`, kind: 'host-state', dispose: () => pressure.releaseAll() });
    this.controls = {
      ...(cpuControl ? { cpus: cpuControl.asControl() } : {}),
      memoryPressure: pressure,
      unsupportedReason: { ...NOT_PHYSICAL, ...(cpuReason ? { cpus: cpuReason } : {}) },
    };
    this.startMetrics = { boot_ms: metric(0, 'ms') };
  }

  get origin(): number {
    return this.output.origin;
  }

  private env(extra?: Record<string, string>): Record<string, string> {
    return { ...(process.env as Record<string, string>), PATH: `${this.payloadDir}:${this.toolsDir}:${process.env.PATH ?? '/usr/bin:/bin'}`, ...extra };
  }

  async exec(command: string[], options: ExecOptions = {}): Promise<ExecResult> {
    const [file, ...args] = command;
    const started = performance.now();
    const result = await execa(file!, args, {
      reject: false,
      env: this.env(options.env),
      extendEnv: false,
      ...(options.input !== undefined ? { input: options.input } : {}),
      ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
      ...(options.signal ? { cancelSignal: options.signal } : {}),
    });
    return {
      command,
      exitCode: result.exitCode ?? null,
      ...(result.signal ? { signal: result.signal } : {}),
      stdout: String(result.stdout ?? ''),
      stderr: String(result.stderr ?? ''),
      durationMs: performance.now() - started,
      timedOut: result.timedOut ?? false,
    };
  }

  async spawn(command: string[], options: ExecOptions = {}): Promise<BackgroundProcess> {
    const [file, ...args] = command;
    const child = execa(file!, args, { reject: false, env: this.env(options.env), extendEnv: false, all: true, buffer: false, forceKillAfterDelay: 3_000, cleanup: true });
    const handle = this.scope.register({
      name: `local process ${command.join(' ')}`,
      kind: 'process',
      dispose: async () => {
        if (child.exitCode === null) child.kill('SIGKILL');
        await child.catch(() => undefined);
      },
      disposeSync: () => {
        if (child.exitCode === null) child.kill('SIGKILL');
      },
    });
    child.all?.on('data', (chunk: Buffer) => this.output.feed('app', chunk));
    return new LocalProcess(child, command, this.output, () => handle.release());
  }

  async writeFile(path: string, data: Buffer | string, mode?: number): Promise<void> {
    await writeFile(path, data);
    if (mode !== undefined) await chmod(path, mode);
  }

  readFile(path: string): Promise<Buffer> {
    return readFile(path);
  }

  async facts(): Promise<MachineFacts> {
    const facts = await collectFacts((command) => this.exec(command, { timeoutMs: 20_000 }));
    const probe = await this.exec(['bw-perf-probe'], { timeoutMs: 20_000 });
    try {
      const parsed = JSON.parse(probe.stdout) as { cycles: { ok: boolean; errno?: string }; instructions: { ok: boolean; errno?: string } };
      facts.pmu = { cycles: parsed.cycles.ok, instructions: parsed.instructions.ok, detail: probe.stdout.trim() };
    } catch {
      // No probe result: PMU facts stay unknown rather than guessed.
    }
    return facts;
  }

  async stop(): Promise<void> {
    const errors = await this.scope.dispose();
    if (errors.length > 0) throw new AggregateError(errors, `stopping ${this.name} failed`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

class LocalProcess implements BackgroundProcess {
  private readonly started = performance.now();

  constructor(
    private readonly child: ResultPromise,
    private readonly command: string[],
    private readonly output: LineBuffer,
    private readonly forget: () => void,
  ) {}

  get pid(): number {
    return this.child.pid ?? -1;
  }

  async wait(timeoutMs: number): Promise<ExecResult> {
    const result = await withDeadline(this.child, timeoutMs, `local process ${this.command[0]} to exit`);
    this.output.flush('app');
    this.forget();
    return {
      command: this.command,
      exitCode: result.exitCode ?? null,
      ...(result.signal ? { signal: result.signal } : {}),
      stdout: '',
      stderr: '',
      durationMs: performance.now() - this.started,
      timedOut: false,
    };
  }

  async isRunning(): Promise<boolean> {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async kill(signal: 'TERM' | 'KILL' = 'TERM'): Promise<void> {
    if (!(await this.isRunning())) return;
    this.child.kill(`SIG${signal}`);
    await withDeadline(this.child.catch(() => undefined), 10_000, `local process ${this.command[0]} to stop`).catch((error: unknown) => {
      if (!(error instanceof DeadlineError)) throw error;
      this.child.kill('SIGKILL');
    });
  }
}

/** Start the local "machine": a private payload dir, PATH with the app and bothworlds' tools. */
export async function startLocalMachine(options: { scope: ResourceScope; name?: string; workDir?: string }): Promise<LocalMachine> {
  const name = options.name ?? 'local';
  const scope = options.scope.child(`local-${name}`);
  const payloadDir = mkdtempSync(join(options.workDir ?? tmpdir(), 'bw-local-'));
  scope.registerTempDir(payloadDir);
  const tools = await ensureTools();
  const run = (command: string[]) => execa(command[0]!, command.slice(1), { reject: false }).then((r) => ({ command, exitCode: r.exitCode ?? null, stdout: String(r.stdout), stderr: String(r.stderr), durationMs: 0, timedOut: false }) as ExecResult);
  const cpuReason = await HostCpuControl.unsupportedReason(run);
  let cpuControl: HostCpuControl | undefined;
  if (!cpuReason) {
    cpuControl = new HostCpuControl(run);
    const control = cpuControl;
    // Registered before any change: success, failure, Ctrl+C and a crash all bring every CPU back.
    scope.register({ name: 'host CPUs back online', kind: 'host-state', dispose: () => control.restore(), disposeSync: () => control.restoreSync() });
  }
  return new LocalMachine(name, payloadDir, scope, dirname(tools.perfProbe), cpuControl, cpuReason);
}
