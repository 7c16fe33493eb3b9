import { InfrastructureError } from '../core/errors.js';

/** The guest agent answered a command with an error. */
export class AgentError extends InfrastructureError {
  constructor(
    readonly command: string,
    readonly agentClass: string,
    readonly desc: string,
  ) {
    super('QGA_COMMAND', `guest agent ${command} failed: ${agentClass}: ${desc}`, { details: { command, agentClass, desc } });
  }
}

/** No answer to guest-sync within the deadline: the agent is not running or the guest is stuck. */
export class AgentSilentError extends InfrastructureError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('QGA_SILENT', message, options);
  }
}

/** The agent's socket closed (QEMU exited). */
export class AgentDisconnectedError extends InfrastructureError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('QGA_DISCONNECTED', message, options);
  }
}
