import { makeTempDir } from '../../core/temp-dir.js';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { InfrastructureError } from '../../core/errors.js';
import { ensureTools } from '../../images/tools.js';
import { metric } from '../../model/metrics.js';
import type { MachineFacts } from '../../model/facts.js';
import type { ResourceScope } from '../../core/scope.js';
import { collectFacts } from '../facts.js';
import { LineBuffer, LineSplitter } from '../line-source.js';
import type { BackgroundProcess, ExecOptions, ExecResult, MachineControls, StartedMachine } from '../machine.js';
import type { CpuState } from '../hosts/cpu-hotplug.js';
import { createPhysicalControls } from '../hosts/physical-controls.js';
import { probeThisHostPmu } from '../hosts/pmu.js';
import { watchdogCommand, type HostBackgroundOptions, type HostShell, type Watchdog } from '../hosts/shell.js';
import { execLocal, spawnLocal } from './local-process.js';
import { spawnContained } from './contained-spawn.js';

export interface LocalMachineOptions {
  scope: ResourceScope;
  /** Parent of the private payload directory (default: the OS temp dir). */
  workDir?: string;
  name?: string;
}

/** This host as a physical machine: the same facts script, the same controls contract as a VM. */
export async function startLocalMachine(options: LocalMachineOptions): Promise<StartedMachine> {
  const started = performance.now();
  const name = options.name ?? `local:${hostname()}`;
  const scope = options.scope.child(`local ${name}`);
  const payloadDir = options.workDir ? mkdtempSync(join(options.workDir, 'bothworlds-local-')) : makeTempDir('local-');
  scope.registerTempDir(payloadDir);
  await chmod(payloadDir, 0o700);
  return new LocalMachine(name, payloadDir, scope, performance.now() - started);
}

class LocalMachine implements StartedMachine, HostShell {
  readonly backend = 'local' as const;
  readonly accel = 'none' as const;
  readonly output: LineBuffer;
  readonly origin: number;
  readonly controls: MachineControls;
  readonly startMetrics;
  readonly description: string;
  private stopped = false;

  constructor(
    readonly name: string,
    readonly payloadDir: string,
    private readonly scope: ResourceScope,
    startMs: number,
  ) {
    this.output = new LineBuffer();
    this.origin = this.output.origin;
    this.startMetrics = { start_ms: metric(startMs, 'ms') };
    this.description = `this host (${hostname()})`;
    this.controls = createPhysicalControls(this, scope, { restoreSync: restoreCpusSync });
  }

  exec(command: string[], options: ExecOptions = {}): Promise<ExecResult> {
    this.assertRunning();
    return execLocal(command, { ...options, env: this.withPayloadPath(options.env), cwd: this.payloadDir });
  }

  spawn(command: string[], options: ExecOptions = {}): Promise<BackgroundProcess> {
    return this.background(command, {}, this.withPayloadPath(options.env), 'app');
  }

  /** The application's files are found by name, as in a guest (where /opt/bothworlds/app is on PATH). */
  private withPayloadPath(env: Record<string, string> | undefined): Record<string, string> {
    return { ...env, PATH: `${this.payloadDir}:${env?.PATH ?? process.env.PATH ?? '/usr/bin:/bin'}` };
  }

  async background(command: string[], options: HostBackgroundOptions = {}, env?: Record<string, string>, source?: 'app'): Promise<BackgroundProcess> {
    this.assertRunning();
    const splitters = { stdout: new LineSplitter(), stderr: new LineSplitter() };
    const child = await spawnContained(this.scope, command, {
      cwd: this.payloadDir,
      env: env ?? this.withPayloadPath(undefined),
      onData: (stream, chunk) => {
        if (source) this.output.feed(source, chunk);
        if (options.onLine) {
          for (const line of splitters[stream].feed(chunk)) options.onLine(stream, line);
        }
      },
    });
    const flush = () => {
      if (source) this.output.flush(source);
    };
    child.exited.then(flush, flush);
    return child;
  }

  async armWatchdog(script: string): Promise<Watchdog> {
    // Its own process group and no cleanup-on-exit: if the harness dies, the pipe closes and the script runs.
    const child = await spawnLocal(watchdogCommand(script), { stdin: 'pipe' });
    return {
      release: async (timeoutMs = 15_000) => {
        child.endInput();
        return child.wait(timeoutMs);
      },
      releaseSync: () => child.endInput(),
    };
  }

  async toolPath(tool: 'perfProbe' | 'dirtyMem'): Promise<string> {
    return (await ensureTools())[tool];
  }

  writeFile(path: string, data: Buffer | string, mode?: number): Promise<void> {
    this.assertRunning();
    return writeFile(path, data, mode === undefined ? {} : { mode }).then(() => (mode === undefined ? undefined : chmod(path, mode)));
  }

  readFile(path: string): Promise<Buffer> {
    return readFile(path);
  }

  async facts(): Promise<MachineFacts> {
    const facts = await collectFacts((command) => this.exec(command, { timeoutMs: 30_000 }));
    return { ...facts, pmu: await probeThisHostPmu(this) };
  }

  /** Kills every child, restores CPUs and cpusets, removes the payload dir (all owned by the machine's scope). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const errors = await this.scope.dispose();
    if (errors.length > 0) throw new InfrastructureError('LOCAL_STOP', `stopping ${this.name} had ${errors.length} error(s): ${errors.map(String).join('; ')}`, { cause: errors[0] });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  private assertRunning(): void {
    if (this.stopped) throw new InfrastructureError('MACHINE_STOPPED', `${this.name} was stopped`);
  }
}

/** Exit-hook restoration: plain synchronous writes, nothing that can hang. */
function restoreCpusSync(state: CpuState): void {
  for (const { cpu, online } of state.hotpluggable) {
    if (!online) continue;
    const file = `/sys/devices/system/cpu/cpu${cpu}/online`;
    try {
      if (readFileSync(file, 'utf8').trim() !== '1') writeFileSync(file, '1');
    } catch {
      // Best effort: the watchdog runs the same restoration when our pipe closes.
    }
  }
  for (const { path, cpus } of [...state.cpusets].sort((a, b) => a.path.length - b.path.length)) {
    try {
      if (cpus && readFileSync(path, 'utf8').trim() !== cpus) writeFileSync(path, cpus);
    } catch {
      // Best effort, as above.
    }
  }
}
