import type { MachineFacts } from '../model/facts.js';
import { collectFacts } from './facts.js';
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
 * and facts are the same on every VM backend; only where the agent lives differs.
 */
export abstract class AgentMachine {
  abstract readonly output: LineBuffer;
  /** The agent of the guest as it is now (after a migration, the destination's). */
  abstract readonly agent: MachineAgent;

  exec(command: string[], options: ExecOptions = {}): Promise<ExecResult> {
    return this.agent.exec(command, options);
  }

  spawn(command: string[], options: ExecOptions = {}): Promise<BackgroundProcess> {
    return spawnInGuest(() => this.agent, this.output, command, options);
  }

  writeFile(path: string, data: Buffer | string, mode?: number): Promise<void> {
    return this.agent.writeFile(path, data, mode);
  }

  readFile(path: string): Promise<Buffer> {
    return this.agent.readFile(path);
  }

  facts(): Promise<MachineFacts> {
    return collectFacts((command) => this.exec(command, { timeoutMs: 20_000 }));
  }
}
