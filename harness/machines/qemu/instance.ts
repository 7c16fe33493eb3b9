import { setTimeout as sleep } from 'node:timers/promises';
import { InfrastructureError, attachCleanupError } from '../../core/errors.js';
import { withDeadline } from '../../core/deadline.js';
import type { ResourceScope } from '../../core/scope.js';
import type { LineBuffer } from '../line-source.js';
import { QmpClient } from '../../qmp/client.js';
import { GuestAgent } from '../../qga/client.js';
import { buildQemuArgv, type QemuLaunchConfig, type QemuSockets } from './argv.js';
import { QemuProcess, type QemuExit } from './process.js';
import { createRunDir } from './sockets.js';
import type { Socket } from 'node:net';
import { attachPortReader } from './port-reader.js';

export interface QemuInstanceOptions {
  scope: ResourceScope;
  lines: LineBuffer;
  name: string;
  config: Omit<QemuLaunchConfig, 'sockets' | 'name'>;
  /** Deadline for QEMU to create its QMP socket and answer the handshake. */
  qmpTimeoutMs?: number;
}

/**
 * One QEMU process with its private run directory, QMP connection and port readers. A machine
 * has one instance at a time; live migration starts a second one and hands over.
 */
export class QemuInstance {
  agent: GuestAgent | undefined;
  /**
   * Where `start` and `stop` spent their time (ms), for the overhead benchmark: `spawn`, `qmp`
   * (socket up, greeting, capabilities), `ports` (app and heartbeat readers); `quit` (the QMP
   * `quit` until QEMU exited), `kill` (only when `quit` did not end it), `teardown` (sockets, run dir).
   */
  readonly steps: Record<string, number> = {};

  private constructor(
    readonly scope: ResourceScope,
    readonly process: QemuProcess,
    readonly qmp: QmpClient,
    readonly argv: string[],
    readonly runDir: string,
    readonly sockets: QemuSockets,
    private readonly lines: LineBuffer,
    startSteps: Record<string, number>,
    /** The host side of the guest's heartbeat port: lines come in, pace commands go out. */
    readonly heartbeatPort: Socket,
  ) {
    Object.assign(this.steps, startSteps);
  }

  static async start(options: QemuInstanceOptions): Promise<QemuInstance> {
    const scope = options.scope.child(options.name);
    const t0 = performance.now();
    try {
      const { dir, sockets } = createRunDir(scope, options.name);
      const argv = buildQemuArgv({ ...options.config, name: options.name, sockets });
      const qemu = QemuProcess.launch(argv, { scope, console: options.lines, name: options.name });
      const spawned = performance.now();
      const qmp = await raceExit(
        qemu,
        QmpClient.connect(sockets.qmp, { timeoutMs: options.qmpTimeoutMs ?? 15_000 }),
        'QMP handshake',
        options.lines,
      ).catch(async (error: unknown) => {
        // QEMU that aborts at start (KVM: "failed to set MSR") closes QMP a moment before its exit
        // is reaped: name what QEMU said, not "socket closed before the greeting".
        const exit = await Promise.race([qemu.exited, sleep(500).then(() => undefined)]);
        if (exit && !exit.expected) throw exitError(qemu, exit, 'during QMP handshake', options.lines);
        throw error;
      });
      scope.register({ name: `qmp ${sockets.qmp}`, kind: 'socket', dispose: () => qmp.close() });
      const handshaken = performance.now();
      const [, heartbeatPort] = await Promise.all([
        attachPortReader(sockets.app, 'app', options.lines, scope),
        attachPortReader(sockets.heartbeat, 'heartbeat', options.lines, scope),
      ]);
      const steps = { spawn: spawned - t0, qmp: handshaken - spawned, ports: performance.now() - handshaken };
      return new QemuInstance(scope, qemu, qmp, [...qemu.argv], dir, sockets, options.lines, steps, heartbeatPort);
    } catch (error) {
      for (const cleanupError of await scope.dispose()) attachCleanupError(error, cleanupError);
      throw error;
    }
  }

  /** Resolves with an error when QEMU goes away without being asked to. */
  get lost(): Promise<InfrastructureError> {
    return this.process.exited.then((exit) =>
      exit.expected ? new Promise<never>(() => undefined) : exitError(this.process, exit, 'while running', this.lines),
    );
  }

  /** Wait until the guest agent answers a sync; the boot deadline names the last console line. */
  async waitForAgent(timeoutMs: number): Promise<GuestAgent> {
    if (this.agent) return this.agent;
    const connecting = GuestAgent.connect(this.sockets.agent, { timeoutMs });
    try {
      const agent = await raceExit(this.process, connecting, 'guest agent', this.lines);
      this.scope.register({ name: `agent ${this.sockets.agent}`, kind: 'socket', dispose: () => agent.close() });
      this.agent = agent;
      return agent;
    } catch (error) {
      connecting.then((agent) => agent.close()).catch(() => undefined);
      // The agent's socket closes a moment before QEMU's exit is reaped: name the real cause.
      const exit = await Promise.race([this.process.exited, sleep(500).then(() => undefined)]);
      if (exit && !exit.expected) throw exitError(this.process, exit, 'while waiting for the guest agent', this.lines);
      if (error instanceof InfrastructureError && error.code !== 'QEMU_EXITED') {
        const last = this.lines.lastLine('console')?.text ?? '(no console output)';
        throw new InfrastructureError('BOOT_TIMEOUT', `guest agent did not answer within ${timeoutMs} ms; last console line: ${JSON.stringify(last)}`, {
          cause: error,
          details: { lastConsoleLine: last, stderr: this.process.stderrTail() },
        });
      }
      throw error;
    }
  }

  /** `quit` with a deadline, then SIGKILL; removes the run directory. Idempotent. */
  async stop(deadlineMs = 3_000): Promise<void> {
    const t0 = performance.now();
    if (this.process.running && this.qmp.state === 'running') {
      this.process.expectExit();
      try {
        await withDeadline(
          this.qmp.execute('quit').catch(() => undefined).then(() => this.process.exited),
          deadlineMs,
          'QEMU to quit',
        );
      } catch {
        // Falls through to the forced kill below.
      }
    }
    const quitted = performance.now();
    await this.process.kill();
    const killed = performance.now();
    const errors = await this.scope.dispose();
    Object.assign(this.steps, { quit: quitted - t0, kill: killed - quitted, teardown: performance.now() - killed });
    if (errors.length > 0) throw new AggregateError(errors, `teardown of ${this.scope.name} failed`);
  }
}

/** Race a step of start-up against QEMU exiting; an early exit becomes QEMU_EXITED with argv and logs. */
export async function raceExit<T>(qemu: QemuProcess, work: Promise<T>, step: string, lines: LineBuffer): Promise<T> {
  const exit = qemu.exited.then((info) => {
    throw exitError(qemu, info, `during ${step}`, lines);
  });
  try {
    return await Promise.race([work, exit]);
  } finally {
    exit.catch(() => undefined);
  }
}

function exitError(qemu: QemuProcess, exit: QemuExit, when: string, lines: LineBuffer): InfrastructureError {
  const how = exit.signal ? `killed by ${exit.signal}` : `exited with code ${exit.exitCode}`;
  const stderr = qemu.stderrTail(10);
  const consoleTail = lines.lines.filter((l) => l.source === 'console').slice(-5).map((l) => l.text);
  return new InfrastructureError('QEMU_EXITED', `QEMU ${how} ${when}${stderr ? `: ${stderr.split('\n').at(-1)}` : ''}`, {
    details: { exitCode: exit.exitCode, signal: exit.signal, argv: qemu.argv, stderr, consoleTail },
  });
}
