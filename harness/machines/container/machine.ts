import { execa, type ResultPromise } from 'execa';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { DeadlineError, InfrastructureError } from '../../core/errors.js';
import { withDeadline } from '../../core/deadline.js';
import type { MachineFacts } from '../../model/facts.js';
import { metric, type Metrics } from '../../model/metrics.js';
import type { ResourceScope } from '../../core/scope.js';
import { collectFacts } from '../facts.js';
import { LineBuffer } from '../line-source.js';
import type { Ack, BackgroundProcess, ExecOptions, ExecResult, MachineControls, StartedMachine } from '../machine.js';
import { docker, requireDocker } from './docker.js';
import { ensureContainerImage } from './image.js';
import { ownerLabels } from './owner.js';

/** GenericContainer with the one host setting testcontainers has no builder for: the cpuset, so nproc inside is the cell's vCPU count. */
class CellContainer extends GenericContainer {
  withCpuset(cpus: string): this {
    this.hostConfig.CpusetCpus = cpus;
    return this;
  }
}

export interface ContainerSpec {
  cpus: number;
  memoryMiB: number;
  name?: string;
}

const LABEL = 'dev.bothworlds.cell';

/** A container cell: the application runs under CPU and memory limits that events change live. */
export class ContainerMachine implements StartedMachine {
  readonly backend = 'container' as const;
  readonly accel = 'none' as const;
  readonly payloadDir = '/opt/bothworlds/app';
  readonly output = new LineBuffer();
  readonly controls: MachineControls;
  private cpus: number;
  private memoryMiB: number;

  constructor(
    readonly name: string,
    readonly container: StartedTestContainer,
    private readonly scope: ResourceScope,
    readonly startMetrics: Metrics,
    spec: ContainerSpec,
    private readonly hostCpus: number,
  ) {
    this.cpus = spec.cpus;
    this.memoryMiB = spec.memoryMiB;
    const id = container.getId();
    const update = async (cpus: number): Promise<Ack> => {
      if (cpus < 1 || cpus > this.hostCpus) throw new InfrastructureError('CONTAINER_CPUS', `cannot give the container ${cpus} CPUs: the host has ${this.hostCpus}`);
      await widenDockerCpuset();
      await docker(['update', '--cpuset-cpus', cpus === 1 ? '0' : `0-${cpus - 1}`, '--cpus', String(cpus), id]);
      this.cpus = cpus;
      return { acknowledgedAt: performance.now(), metrics: {}, detail: { cpus } };
    };
    this.controls = {
      cpus: { plug: () => update(this.cpus + 1), unplug: () => update(this.cpus - 1) },
      balloon: {
        actualMiB: async () => this.memoryMiB,
        setTargetMiB: async (targetMiB: number) => {
          const started = performance.now();
          const before = this.memoryMiB;
          const bytes = Math.round(targetMiB) * 1024 * 1024;
          // memory-swap must never be below memory: raise it first when growing.
          await docker(['update', '--memory', String(bytes), '--memory-swap', String(bytes * 2), id]);
          this.memoryMiB = targetMiB;
          return { acknowledgedAt: performance.now(), metrics: { limit_before_mib: metric(before, 'MiB'), limit_after_mib: metric(targetMiB, 'MiB'), update_ms: metric(performance.now() - started, 'ms') } };
        },
      },
      pause: {
        pause: async () => (await docker(['pause', id]), { acknowledgedAt: performance.now(), metrics: {} }),
        resume: async () => (await docker(['unpause', id]), { acknowledgedAt: performance.now(), metrics: {} }),
      },
      unsupportedReason: {
        migrate: 'a container cannot be live-migrated here: docker checkpoint needs CRIU, and CRIU 3.17 fails `criu check` on this kernel',
        memory: 'a container has no memory to hot-plug: use container-memory (docker update --memory)',
        clock: 'a container shares the host kernel clock; there is no guest clock to correct',
        memoryPressure: 'use container-memory to squeeze a container',
      },
    };
  }

  get origin(): number {
    return this.output.origin;
  }

  async exec(command: string[], options: ExecOptions = {}): Promise<ExecResult> {
    const started = performance.now();
    const env = Object.entries(options.env ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    const result = await execa('docker', ['exec', ...(options.input !== undefined ? ['-i'] : []), ...env, this.container.getId(), ...command], {
      reject: false,
      ...(options.input !== undefined ? { input: options.input } : {}),
      ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
      stripFinalNewline: false,
    });
    return {
      command,
      exitCode: result.timedOut ? null : (result.exitCode ?? null),
      stdout: String(result.stdout),
      stderr: String(result.stderr),
      durationMs: performance.now() - started,
      timedOut: result.timedOut ?? false,
    };
  }

  async spawn(command: string[], options: ExecOptions = {}): Promise<BackgroundProcess> {
    const env = Object.entries(options.env ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    // The shell prints its pid, then becomes the program: that pid is what `kill` signals inside.
    const child = execa('docker', ['exec', ...env, this.container.getId(), 'sh', '-c', 'echo $$; exec "$@" 2>&1', 'bw-app', ...command], { reject: false, buffer: false });
    const handle = this.scope.register({ name: `container process ${command[0]}`, kind: 'process', dispose: async () => void child.kill('SIGKILL'), disposeSync: () => void child.kill('SIGKILL') });
    let header = '';
    const pid = await withDeadline(
      new Promise<number>((resolve) => {
        child.stdout?.on('data', (chunk: Buffer) => {
          if (header.includes('\n')) return this.output.feed('app', chunk);
          header += chunk.toString();
          const newline = header.indexOf('\n');
          if (newline >= 0) {
            resolve(Number(header.slice(0, newline)));
            if (header.length > newline + 1) this.output.feed('app', header.slice(newline + 1));
          }
        });
      }),
      15_000,
      `${command[0]} to start in the container`,
    );
    return new ContainerProcess(this, child, command, pid, () => handle.release());
  }

  async writeFile(path: string, data: Buffer | string, mode?: number): Promise<void> {
    await this.container.copyContentToContainer([{ content: Buffer.from(data), target: path, ...(mode !== undefined ? { mode } : {}) }]);
  }

  async readFile(path: string): Promise<Buffer> {
    const result = await execa('docker', ['exec', this.container.getId(), 'cat', path], { encoding: 'buffer', reject: false });
    if (result.exitCode !== 0) throw new InfrastructureError('CONTAINER_READ', `cannot read ${path} in the container: ${Buffer.from(result.stderr).toString().trim()}`);
    return Buffer.from(result.stdout);
  }

  facts(): Promise<MachineFacts> {
    return collectFacts((command) => this.exec(command, { timeoutMs: 20_000 }));
  }

  async stop(): Promise<void> {
    const errors = await this.scope.dispose();
    if (errors.length > 0) throw new AggregateError(errors, `stopping ${this.name} failed`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

class ContainerProcess implements BackgroundProcess {
  private readonly started = performance.now();

  constructor(
    private readonly machine: ContainerMachine,
    private readonly child: ResultPromise,
    private readonly command: string[],
    readonly pid: number,
    private readonly forget: () => void,
  ) {}

  async wait(timeoutMs: number): Promise<ExecResult> {
    const result = await withDeadline(this.child, timeoutMs, `${this.command[0]} in the container to exit`);
    this.machine.output.flush('app');
    this.forget();
    return { command: this.command, exitCode: result.exitCode ?? null, stdout: '', stderr: '', durationMs: performance.now() - this.started, timedOut: false };
  }

  async isRunning(): Promise<boolean> {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async kill(signal: 'TERM' | 'KILL' = 'TERM'): Promise<void> {
    if (!(await this.isRunning())) return;
    await this.machine.exec(['kill', `-${signal}`, String(this.pid)], { timeoutMs: 10_000 });
    await withDeadline(this.child.catch(() => undefined), 10_000, `${this.command[0]} to stop`).catch(async (error: unknown) => {
      if (!(error instanceof DeadlineError)) throw error;
      await this.machine.exec(['kill', '-KILL', String(this.pid)], { timeoutMs: 10_000 });
    });
  }
}

/**
 * cgroup v1 keeps a cpuset shrunk after a CPU goes offline and comes back (PLATFORM-NOTES): if
 * dockerd's parent cpuset lost CPUs that are online again, no container can be given them. Widen it
 * back to the root cpuset (as root; a no-op elsewhere or on cgroup v2).
 */
async function widenDockerCpuset(): Promise<void> {
  const { readFile, writeFile } = await import('node:fs/promises');
  try {
    const root = (await readFile('/sys/fs/cgroup/cpuset/cpuset.cpus', 'utf8')).trim();
    const parent = '/sys/fs/cgroup/cpuset/docker/cpuset.cpus';
    if ((await readFile(parent, 'utf8')).trim() !== root) await writeFile(parent, root);
  } catch {
    // Not cgroup v1, no docker cpuset, or not root: nothing to repair here.
  }
}

/** Start a container cell with the cell's CPU and memory limits (testcontainers, reaper off: its image cannot be pulled here). */
export async function startContainerMachine(spec: ContainerSpec, options: { scope: ResourceScope; timeoutMs?: number }): Promise<ContainerMachine> {
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  await requireDocker();
  const started = performance.now();
  const image = await ensureContainerImage();
  const hostCpus = Number((await execa('nproc')).stdout.trim());
  if (spec.cpus > hostCpus) throw new InfrastructureError('CONTAINER_CPUS', `the cell asks for ${spec.cpus} CPUs; this host has ${hostCpus}`);
  const name = spec.name ?? 'container';
  const scope = options.scope.child(`container-${name}`);
  await widenDockerCpuset();
  try {
    const container = await new CellContainer(image)
      .withCommand(['sh', '-c', 'echo bothworlds-container-ready; exec sleep 2147483647'])
      // Owner labels: the next harness start removes the container if this harness dies first.
      .withLabels({ [LABEL]: name, ...ownerLabels() })
      .withResourcesQuota({ memory: spec.memoryMiB / 1024, cpu: spec.cpus })
      .withCpuset(spec.cpus === 1 ? '0' : `0-${spec.cpus - 1}`)
      .withWaitStrategy(Wait.forLogMessage('bothworlds-container-ready'))
      .withStartupTimeout(options.timeoutMs ?? 60_000)
      .start();
    scope.register({
      name: `container ${container.getId().slice(0, 12)} (${name})`,
      kind: 'container',
      dispose: async () => void (await container.stop({ timeout: 0, remove: true })),
      disposeSync: () => void execa('docker', ['rm', '-f', container.getId()]).catch(() => undefined),
    });
    return new ContainerMachine(name, container, scope, { boot_ms: metric(performance.now() - started, 'ms') }, spec, hostCpus);
  } catch (error) {
    await scope.dispose();
    throw error;
  }
}

export { LABEL as CONTAINER_LABEL };
