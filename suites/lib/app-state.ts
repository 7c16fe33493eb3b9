import type { SuiteContext } from '../../harness/suite/api.js';
import type { ConsoleLine } from '../../harness/model/result.js';
import { checkHealth, describeHealth } from '../../harness/net/app-health.js';

/** The last `workers=N` among the application's lines at or after `since` (ms since origin), if any. */
export function parseLatestWorkers(lines: readonly ConsoleLine[], since = 0): number | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (line.t < since) break;
    if (line.source !== 'app') continue;
    const match = /\bworkers=(\d+)\b/.exec(line.text);
    if (match) return Number(match[1]);
  }
  return undefined;
}

/** The latest `workers=N` the application printed after time `since` (ms since origin), if any. */
export function latestWorkers(context: SuiteContext, since = 0): number | undefined {
  return parseLatestWorkers(context.machine.output.lines, since);
}

/** The number in a probe's output: its first whitespace-separated token, when it is one. */
export function parseProbeNumber(stdout: string): number | undefined {
  const token = stdout.trim().split(/\s+/)[0] ?? '';
  return /^-?\d+(\.\d+)?$/.test(token) ? Number(token) : undefined;
}

/** Threads: N from a /proc/<pid>/status text. */
export function parseThreads(status: string): number | undefined {
  const match = /^Threads:\s*(\d+)\s*$/m.exec(status);
  return match ? Number(match[1]) : undefined;
}

/** Run a user-declared probe (argv printing a number) on the machine. */
export async function probeNumber(context: SuiteContext, argv: string[]): Promise<number | undefined> {
  const result = await context.machine.exec(argv, { timeoutMs: 15_000 });
  return result.exitCode === 0 ? parseProbeNumber(result.stdout) : undefined;
}

/** Threads of the newest process named `name` (from /proc/<pid>/status). */
export async function threadsOf(context: SuiteContext, name: string): Promise<number | undefined> {
  // The app runs under a wrapper shell: find the real process by name; the newest one wins.
  const script = 'pid=$(pidof "$0" | tr " " "\\n" | sort -n | tail -1); [ -n "$pid" ] && cat /proc/$pid/status';
  const result = await context.machine.exec(['sh', '-c', script, name], { timeoutMs: 15_000 });
  return result.exitCode === 0 ? parseThreads(result.stdout) : undefined;
}

/** Is the application still running and healthy (its health command, when it has one)? */
export async function appHealth(context: SuiteContext): Promise<{ running: boolean; healthy: boolean; detail: string }> {
  const running = context.app ? await context.app.isRunning() : false;
  if (!running) return { running, healthy: false, detail: 'the application is not running' };
  if (!context.cell.app.health) return { running, healthy: true, detail: 'running (no health check declared)' };
  // In the guest, or from the host through the forwarded port (tcp, http, a host command).
  const result = await checkHealth(context.cell, context.machine, 15_000);
  return { running, healthy: result.healthy, detail: result.healthy ? result.detail : `health check ${describeHealth(context.cell.app.health)}: ${result.detail}` };
}
