import { constants } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecResult } from '../model/exec-result.js';
import type { GuestExecStatus } from './client.js';

/** What exec needs from the agent; keeps this file free of the transport. */
export interface ExecTransport {
  execStart(command: string[], options?: { input?: string | Buffer; env?: Record<string, string> }): Promise<number>;
  execStatus(pid: number): Promise<GuestExecStatus>;
}

const signalNames = new Map<number, string>(Object.entries(constants.signals).map(([name, number]) => [number, name]));

/** The arguments of `guest-exec` for an argv (output captured; environment and input optional). */
export function guestExecArguments(command: string[], options: { input?: string | Buffer; env?: Record<string, string> } = {}): Record<string, unknown> {
  const [path, ...arg] = command;
  return {
    path,
    arg,
    'capture-output': true,
    ...(options.env ? { env: Object.entries(options.env).map(([k, v]) => `${k}=${v}`) } : {}),
    ...(options.input !== undefined ? { 'input-data': Buffer.from(options.input).toString('base64') } : {}),
  };
}

/** Linux numbering (the guest is Linux/x86 like the host): 9 → SIGKILL. */
export function signalName(signal: number | undefined): string | undefined {
  if (signal === undefined) return undefined;
  return signalNames.get(signal) ?? `SIG${signal}`;
}

/**
 * Kill a guest process and everything it started. qemu-ga's children share its process group,
 * so a group kill would take the agent down too; walk /proc/PID/task/TID/children instead,
 * stopping each process before reading its children so none can fork past us. A survivor
 * holding the output pipe would keep guest-exec-status from ever reporting `exited`.
 */
export function killTreeScript(pid: number): string[] {
  const script = 't() { kill -STOP "$1" 2>/dev/null; for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do t "$c"; done; kill -KILL "$1" 2>/dev/null; }; t "$0"';
  return ['/bin/sh', '-c', script, String(pid)];
}

export function toExecResult(command: string[], status: GuestExecStatus, durationMs: number, timedOut: boolean): ExecResult {
  const signal = signalName(status.signal) ?? (timedOut ? 'SIGKILL' : undefined);
  return {
    command,
    exitCode: timedOut ? null : (status.exitcode ?? null),
    ...(signal !== undefined ? { signal } : {}),
    stdout: decode(status['out-data']),
    stderr: decode(status['err-data']),
    durationMs,
    timedOut,
  };
}

/** Poll guest-exec-status fast at first (5 ms), backing off to 50 ms, until exited or `deadline`. */
export async function waitForExit(agent: ExecTransport, pid: number, deadline: number): Promise<GuestExecStatus> {
  let interval = 5;
  for (;;) {
    const status = await agent.execStatus(pid);
    if (status.exited || performance.now() >= deadline) return status;
    await sleep(Math.min(interval, Math.max(1, deadline - performance.now())));
    interval = Math.min(50, interval * 2);
  }
}

/** guest-exec to completion; on timeout the process tree is killed and reaped, output kept. */
export async function runToCompletion(
  agent: ExecTransport,
  command: string[],
  options: { timeoutMs?: number; input?: string | Buffer; env?: Record<string, string> },
): Promise<ExecResult> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const started = performance.now();
  const pid = await agent.execStart(command, options);
  const status = await waitForExit(agent, pid, started + timeoutMs);
  if (status.exited) return toExecResult(command, status, performance.now() - started, false);
  const killer = await agent.execStart(killTreeScript(pid));
  // Reap both in qemu-ga (it keeps every unread exit status) and collect the partial output.
  await waitForExit(agent, killer, performance.now() + 2_000);
  const killed = await waitForExit(agent, pid, performance.now() + 2_000);
  return toExecResult(command, killed, performance.now() - started, true);
}

function decode(base64: string | undefined): string {
  return base64 ? Buffer.from(base64, 'base64').toString('utf8') : '';
}
