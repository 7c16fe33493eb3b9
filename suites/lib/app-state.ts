import type { SuiteContext } from '../../harness/suite/api.js';

/** The latest `workers=N` the application printed after time `since` (ms since origin), if any. */
export function latestWorkers(context: SuiteContext, since = 0): number | undefined {
  const lines = context.machine.output.lines.filter((l) => l.source === 'app' && l.t >= since);
  for (let i = lines.length - 1; i >= 0; i--) {
    const match = /\bworkers=(\d+)/.exec(lines[i]!.text);
    if (match) return Number(match[1]);
  }
  return undefined;
}

/** Run a user-declared probe (argv printing a number) on the machine. */
export async function probeNumber(context: SuiteContext, argv: string[]): Promise<number | undefined> {
  const result = await context.machine.exec(argv, { timeoutMs: 15_000 });
  const value = Number(result.stdout.trim().split(/\s+/)[0]);
  return result.exitCode === 0 && Number.isFinite(value) ? value : undefined;
}

/** Threads of the newest process named `name` (from /proc/<pid>/status). */
export async function threadsOf(context: SuiteContext, name: string): Promise<number | undefined> {
  const script = `pid=$(pidof ${JSON.stringify(name).slice(1, -1)} | tr ' ' '\\n' | sort -n | tail -1); [ -n "$pid" ] && grep '^Threads:' /proc/$pid/status | tr -dc 0-9`;
  const result = await context.machine.exec(['sh', '-c', script], { timeoutMs: 15_000 });
  const value = Number(result.stdout.trim());
  return result.exitCode === 0 && result.stdout.trim() !== '' ? value : undefined;
}

/** Is the application still running and healthy (its health command, when it has one)? */
export async function appHealth(context: SuiteContext): Promise<{ running: boolean; healthy: boolean; detail: string }> {
  const running = context.app ? await context.app.isRunning() : false;
  if (!running) return { running, healthy: false, detail: 'the application is not running' };
  const health = context.cell.app.health;
  if (!health) return { running, healthy: true, detail: 'running (no health check declared)' };
  const result = await context.machine.exec(health, { timeoutMs: 15_000 });
  return { running, healthy: result.exitCode === 0, detail: result.exitCode === 0 ? `healthy: ${result.stdout.trim()}` : `health check exited ${result.exitCode}: ${(result.stderr || result.stdout).trim()}` };
}
