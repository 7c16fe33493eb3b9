import { InfrastructureError } from '../core/errors.js';

/** QEMU answered a command with an error: carries what was sent, what came back and QMP's class. */
export class QmpExecuteError extends InfrastructureError {
  constructor(
    readonly command: string,
    readonly args: Record<string, unknown> | undefined,
    readonly qmpClass: string,
    readonly desc: string,
    readonly reply: unknown,
  ) {
    super('QMP_EXECUTE', `QMP ${command} failed: ${qmpClass}: ${desc}`, { details: { command, args, qmpClass, desc } });
  }
}

/** The QMP socket closed (QEMU exited or was killed) with calls pending or on a new call. */
export class QmpDisconnectedError extends InfrastructureError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('QMP_DISCONNECTED', message, options);
  }
}

/** QEMU said something that is not QMP (bad greeting, unparsable line). */
export class QmpProtocolError extends InfrastructureError {
  constructor(message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super('QMP_PROTOCOL', message, options);
  }
}
