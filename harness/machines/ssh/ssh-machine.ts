import type { Client, SFTPWrapper } from 'ssh2';
import { ConfigError, InfrastructureError, UnsupportedError } from '../../core/errors.js';
import { withDeadline } from '../../core/deadline.js';
import { ensureTools } from '../../images/tools.js';
import type { HostRef } from '../../model/cell.js';
import type { MachineFacts } from '../../model/facts.js';
import { metric, type Metrics } from '../../model/metrics.js';
import type { ResourceScope } from '../../core/scope.js';
import { collectFacts } from '../facts.js';
import { LineBuffer, LineSplitter } from '../line-source.js';
import type { BackgroundProcess, ExecOptions, ExecResult, MachineControls, StartedMachine } from '../machine.js';
import { createPhysicalControls } from '../hosts/physical-controls.js';
import { probePmu } from '../hosts/pmu.js';
import { commandLine, watchdogCommand, type HostBackgroundOptions, type HostShell, type Watchdog } from '../hosts/shell.js';
import { hostLabel, openSshConnection } from './connect.js';
import { startRemote } from './remote-process.js';

const KILL_GRACE_MS = 2_000;
const NODE_TO_UNAME: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64' };

export interface SshMachineOptions {
  scope: ResourceScope;
  timeoutMs?: number;
  name?: string;
}

/**
 * A physical host over SSH: one connection, a private remote temp dir (mktemp -d) for the payload
 * and the tools, removed at stop; the same facts script and host controls as the local backend.
 */
export async function connectSshMachine(host: HostRef, options: SshMachineOptions): Promise<StartedMachine> {
  if (!host.address) throw new ConfigError('SSH_HOST', `host ${host.name} has no address`);
  const scope = options.scope.child(`ssh ${host.name}`);
  const started = performance.now();
  try {
    const client = await openSshConnection(host, options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs });
    const connectMs = performance.now() - started;
    const machine = new SshMachine(options.name ?? host.name, host, client, scope);
    scope.register({
      name: `ssh connection to ${hostLabel(host)}`,
      kind: 'ssh',
      dispose: async () => {
        machine.closing = true;
        client.end();
      },
      disposeSync: () => client.destroy(),
    });
    const made = await machine.exec(['mktemp', '-d', '/tmp/bothworlds.XXXXXXXX'], { timeoutMs: 15_000 });
    const dir = made.stdout.trim();
    if (made.exitCode !== 0 || !dir.startsWith('/tmp/bothworlds.')) {
      throw new InfrastructureError('SSH_MKTEMP', `mktemp -d on ${hostLabel(host)} failed (exit ${made.exitCode}): ${made.stderr.trim().slice(0, 200)}`);
    }
    // If the connection drops, nobody can remove the dir: a guard on the host does (EOF without "done").
    const guard = await startRemote(client, ['sh', '-c', `trap '' HUP PIPE; read line; [ "$line" = done ] || rm -rf ${commandLine([dir])}`]);
    scope.register({ name: `remote dir guard on ${host.name}`, kind: 'other', dispose: async () => void guard.channel.end('done\n') });
    // Registered after the connection, so it runs first (LIFO) while the connection still works.
    scope.register({
      name: `remote dir ${dir} on ${host.name}`,
      kind: 'tempdir',
      dispose: async () => {
        const removed = await machine.exec(['rm', '-rf', dir], { timeoutMs: 15_000 });
        if (removed.exitCode !== 0) throw new InfrastructureError('SSH_CLEANUP', `removing ${dir} on ${hostLabel(host)} failed: ${removed.stderr.trim()}`);
      },
    });
    machine.ready(dir, { connect_ms: metric(connectMs, 'ms'), start_ms: metric(performance.now() - started, 'ms') });
    return machine;
  } catch (error) {
    await scope.dispose();
    throw error;
  }
}

class SshMachine implements StartedMachine, HostShell {
  readonly backend = 'ssh' as const;
  readonly accel = 'none' as const;
  readonly output = new LineBuffer();
  readonly origin = this.output.origin;
  readonly controls: MachineControls;
  readonly lost: Promise<Error>;
  readonly description: string;
  payloadDir = '';
  startMetrics: Metrics = {};
  private stopping = false;
  /** Set before the connection is closed on purpose, so `lost` does not fire. */
  closing = false;
  private sftpSession: Promise<SFTPWrapper> | undefined;
  private readonly tools = new Map<string, Promise<string>>();

  constructor(
    readonly name: string,
    private readonly host: HostRef,
    private readonly client: Client,
    private readonly scope: ResourceScope,
  ) {
    this.description = hostLabel(host);
    this.controls = createPhysicalControls(this, scope);
    this.lost = new Promise((resolve) => {
      client.on('close', () => {
        if (!this.closing) resolve(new InfrastructureError('SSH_LOST', `the SSH connection to ${this.description} dropped`));
      });
      client.on('error', (error) => {
        if (!this.closing) resolve(new InfrastructureError('SSH_LOST', `the SSH connection to ${this.description} failed: ${error.message}`, { cause: error }));
      });
    });
  }

  ready(payloadDir: string, metrics: Metrics): void {
    this.payloadDir = payloadDir;
    this.startMetrics = metrics;
  }

  async exec(command: string[], options: ExecOptions = {}): Promise<ExecResult> {
    this.assertRunning();
    const started = performance.now();
    const run = await startRemote(this.client, command, { ...(this.payloadDir ? { cwd: this.payloadDir } : {}), ...(options.env ? { env: options.env } : {}) });
    if (options.input !== undefined) run.channel.write(options.input);
    run.channel.end();
    let timedOut = false;
    const stopRemote = (): void => {
      if (run.closed()) return;
      // On a dropped connection the signal cannot be sent (it rejects); the remote guard kills the process then.
      this.signal(run.pid, 'KILL')
        .finally(() => run.channel.close())
        .catch(() => undefined);
    };
    const timer = options.timeoutMs ? setTimeout(() => ((timedOut = true), stopRemote()), options.timeoutMs) : undefined;
    timer?.unref();
    options.signal?.addEventListener('abort', stopRemote, { once: true });
    const result = await run.done;
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', stopRemote);
    return { command, ...result, durationMs: performance.now() - started, timedOut };
  }

  spawn(command: string[], options: ExecOptions = {}): Promise<BackgroundProcess> {
    return this.startBackground(command, { env: options.env, toOutput: true });
  }

  background(command: string[], options: HostBackgroundOptions = {}): Promise<BackgroundProcess> {
    return this.startBackground(command, { onLine: options.onLine });
  }

  private async startBackground(command: string[], options: { env?: Record<string, string> | undefined; toOutput?: boolean; onLine?: HostBackgroundOptions['onLine'] }): Promise<BackgroundProcess> {
    this.assertRunning();
    const started = performance.now();
    const splitters = { stdout: new LineSplitter(), stderr: new LineSplitter() };
    const run = await startRemote(this.client, command, {
      cwd: this.payloadDir,
      ...(options.env ? { env: options.env } : {}),
      onData: (stream, chunk) => {
        if (options.toOutput) this.output.feed('app', chunk);
        if (options.onLine) {
          for (const line of splitters[stream].feed(chunk)) options.onLine(stream, line);
        }
      },
    });
    run.channel.end();
    if (run.pid < 0) throw new InfrastructureError('SSH_SPAWN', `could not start ${command.join(' ')} on ${this.description}`);
    // A guard on the host kills the app if the connection drops (sshd only closes the app's pipes).
    // It reads one line: "done" when the app ended normally; EOF without it means we are gone.
    const guard = await startRemote(this.client, ['sh', '-c', `trap '' HUP PIPE; read line; [ "$line" = done ] || { kill -TERM ${run.pid}; sleep 2; kill -KILL ${run.pid}; } 2>/dev/null`]);
    const finished = run.done.then((r): ExecResult => {
      if (!guard.closed()) guard.channel.end('done\n');
      return { command, ...r, durationMs: performance.now() - started, timedOut: false };
    });
    const kill = async (signal: 'TERM' | 'KILL' = 'TERM'): Promise<void> => {
      if (run.closed()) return;
      await this.signal(run.pid, signal);
      if (signal === 'TERM') {
        // A dropped connection rejects the signal: the remote guard kills the process then.
        const escalate = setTimeout(() => {
          this.signal(run.pid, 'KILL').catch(() => undefined);
        }, KILL_GRACE_MS);
        await finished;
        clearTimeout(escalate);
      } else await finished;
    };
    const handle = this.scope.register({ name: `remote process ${run.pid} (${command.join(' ')}) on ${this.host.name}`, kind: 'process', dispose: () => kill('TERM') });
    // A failed run reaches the caller through wait(); here only the bookkeeping.
    finished.then(
      () => {
        if (options.toOutput) this.output.flush('app');
        handle.release();
      },
      () => handle.release(),
    );
    return {
      pid: run.pid,
      wait: (timeoutMs) => withDeadline(finished, timeoutMs, `remote process ${run.pid} (${command.join(' ')}) to exit`),
      isRunning: async () => !run.closed(),
      kill,
    };
  }

  private async signal(pid: number, signal: 'TERM' | 'KILL'): Promise<void> {
    if (pid <= 0 || this.closing) return;
    const run = await startRemote(this.client, ['kill', `-${signal}`, String(pid)]);
    run.channel.end();
    await run.done;
  }

  async armWatchdog(script: string): Promise<Watchdog> {
    // When the connection drops (harness killed, network gone) sshd closes the channel's input:
    // the script runs on the host without us.
    const run = await startRemote(this.client, watchdogCommand(script));
    return {
      release: async (timeoutMs = 15_000) => {
        run.channel.end();
        const result = await withDeadline(run.done, timeoutMs, `the restore watchdog on ${this.description}`);
        return { command: ['watchdog'], ...result, durationMs: 0, timedOut: false };
      },
    };
  }

  toolPath(tool: 'perfProbe' | 'dirtyMem'): Promise<string> {
    let pending = this.tools.get(tool);
    if (!pending) {
      pending = this.uploadTool(tool);
      pending.catch(() => this.tools.delete(tool));
      this.tools.set(tool, pending);
    }
    return pending;
  }

  private async uploadTool(tool: 'perfProbe' | 'dirtyMem'): Promise<string> {
    const arch = (await this.exec(['uname', '-m'])).stdout.trim();
    const ours = NODE_TO_UNAME[process.arch] ?? process.arch;
    if (arch !== ours) throw new UnsupportedError('TOOL_ARCH', `bothworlds' static tools are built for ${ours}; ${this.description} is ${arch}`);
    const local = (await ensureTools())[tool];
    const remote = `${this.payloadDir}/.bw-${tool}`;
    const { readFile } = await import('node:fs/promises');
    await this.writeFile(remote, await readFile(local), 0o755);
    return remote;
  }

  async writeFile(path: string, data: Buffer | string, mode?: number): Promise<void> {
    this.assertRunning();
    const sftp = await this.sftp();
    await new Promise<void>((resolve, reject) =>
      sftp.writeFile(path, data, mode === undefined ? {} : { mode }, (error) => (error ? reject(this.sftpError('writing', path, error)) : resolve())),
    );
    // The server's umask applies to the create mode; set it exactly.
    if (mode !== undefined) await new Promise<void>((resolve, reject) => sftp.chmod(path, mode, (error) => (error ? reject(this.sftpError('chmod of', path, error)) : resolve())));
  }

  async readFile(path: string): Promise<Buffer> {
    this.assertRunning();
    const sftp = await this.sftp();
    return new Promise((resolve, reject) => sftp.readFile(path, (error, data) => (error ? reject(this.sftpError('reading', path, error)) : resolve(data))));
  }

  async facts(): Promise<MachineFacts> {
    const facts = await collectFacts((command) => this.exec(command, { timeoutMs: 30_000 }));
    return { ...facts, pmu: await probePmu(this) };
  }

  /** Kills what it started, restores CPUs, removes the remote dir, then closes the connection. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    const errors = await this.scope.dispose();
    this.stopping = true;
    if (errors.length > 0) throw new InfrastructureError('SSH_STOP', `stopping ${this.name} had ${errors.length} error(s): ${errors.map((e) => (e instanceof Error ? e.message : String(e))).join('; ')}`, { cause: errors[0] });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  private sftp(): Promise<SFTPWrapper> {
    this.sftpSession ??= new Promise((resolve, reject) =>
      this.client.sftp((error, sftp) => (error ? reject(new InfrastructureError('SSH_SFTP', `SFTP on ${this.description} is unavailable: ${error.message}`, { cause: error })) : resolve(sftp))),
    );
    return this.sftpSession;
  }

  private sftpError(what: string, path: string, error: Error): InfrastructureError {
    return new InfrastructureError('SSH_SFTP', `${what} ${path} on ${this.description} failed: ${error.message}`, { cause: error });
  }

  private assertRunning(): void {
    if (this.stopping) throw new InfrastructureError('MACHINE_STOPPED', `${this.name} was stopped`);
  }
}
