import type { MachineFacts } from '../model/facts.js';
import type { GuestExecStatus } from '../qga/client.js';
import { runToCompletion, type ExecTransport } from '../qga/exec.js';
import { collectFacts } from './facts.js';
import { HandoverGate } from './handover-gate.js';
import type { LineBuffer } from './line-source.js';
import type { BackgroundProcess, ExecOptions, ExecResult } from './machine.js';
import { spawnInGuest, type ProcessAgent } from './qemu/guest-process.js';

/** What a guest agent gives a machine, whether over its own socket (QEMU) or through virsh (libvirt). */
export interface MachineAgent extends ProcessAgent {
  writeFile(path: string, data: Buffer | string, mode?: number): Promise<void>;
  readFile(path: string): Promise<Buffer>;
}

/**
 * A VM reached through its guest agent: exec, background processes (output on the app port), files
 * and facts are the same on every VM backend; only where the agent lives differs. Every call
 * follows the guest across a live migration: it waits while the guest is handed over and reaches
 * the destination's agent afterwards (`handover`), so an application is never taken for ended
 * because its source went away.
 */
export abstract class AgentMachine {
  abstract readonly output: LineBuffer;
  /** The agent of the guest as it is now (after a migration, the destination's). */
  abstract readonly agent: MachineAgent;
  /** Closed by the migration control from the start of a migration until the destination took over. */
  readonly handover = new HandoverGate();

  /**
   * The agent as seen through the handover gate: starting a process waits for the gate (it is not
   * retried: it may have run on the source); asking for a status is retried on the destination.
   */
  protected readonly followingAgent: ExecTransport = {
    execStart: async (command, options) => {
      await this.handover.settled();
      return this.agent.execStart(command, options);
    },
    execStatus: (pid: number): Promise<GuestExecStatus> => this.handover.follow(() => this.agent.execStatus(pid)),
  };

  exec(command: string[], options: ExecOptions = {}): Promise<ExecResult> {
    return runToCompletion(this.followingAgent, command, options);
  }

  spawn(command: string[], options: ExecOptions = {}): Promise<BackgroundProcess> {
    return spawnInGuest(this.followingAgent, this.output, command, options);
  }

  async writeFile(path: string, data: Buffer | string, mode?: number): Promise<void> {
    await this.handover.settled();
    return this.agent.writeFile(path, data, mode);
  }

  async readFile(path: string): Promise<Buffer> {
    return this.handover.follow(() => this.agent.readFile(path));
  }

  facts(): Promise<MachineFacts> {
    return collectFacts((command) => this.exec(command, { timeoutMs: 20_000 }));
  }
}
