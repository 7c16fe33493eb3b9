import { DeadlineError, describeError, InfrastructureError } from '../core/errors.js';
import type { Cell } from '../model/cell.js';
import { metric, type Metrics } from '../model/metrics.js';
import type { BackgroundProcess, StartedMachine } from '../machines/machine.js';
import { startUnit } from './systemd-unit.js';
import { startAppLoad, type AppNetwork } from './app-network.js';
import type { LoadGenerator } from './load-generator.js';
import { checkHealth, describeHealth } from '../net/app-health.js';
import { explainExit } from '../cpu/exit-reason.js';
import { appEnv, axisVariable } from '../matrix/app-env.js';
import type { SigillExplanation } from '../cpu/sigill.js';

export interface ApplicationHooks {
  onStarted(app: BackgroundProcess): void;
  /** Runs while the application runs (the timeline and the suites' checks). */
  /** `appEnded` resolves when the application exits (so events whose trigger never came are skipped then). */
  duringApp(appStartedAt: number, appEnded: Promise<unknown>): Promise<void>;
  metrics: Metrics;
  /** The app's forwarded ports and host-side load (app.ports, app.load), when it has them. */
  network?: AppNetwork;
  /** After a SIGILL: the faulting instruction and flag, when they could be read. */
  onSigill?(explanation: SigillExplanation): void;
}

/** Environment the application sees: the cell's axes as BW_AXIS_<NAME>, then the app's own env and its user axes (appEnv). */
export function applicationEnv(cell: Cell): Record<string, string> {
  const env: Record<string, string> = { BW_CELL_ID: cell.id };
  for (const [name, value] of Object.entries(cell.axes)) env[axisVariable(name)] = String(value);
  return { ...env, ...appEnv(cell) };
}

/**
 * Start the application, wait for its ready line, run the timeline while it runs, then judge it:
 * a service must still be running (and healthy) and is stopped; a run-to-exit app must exit with
 * the expected code in time. Returns why the application failed, or undefined.
 */
export async function runApplication(cell: Cell, machine: StartedMachine, hooks: ApplicationHooks): Promise<string | undefined> {
  const { app } = cell;
  const startedAt = performance.now();
  // A systemd unit (app.unit) is started with systemctl; it is ready once `systemctl restart` returns.
  const appProcess = app.unit
    ? await startUnit(machine, app.unit, { timeoutMs: app.timeoutMs, env: applicationEnv(cell) })
    : await machine.spawn(app.command, { env: applicationEnv(cell) });
  hooks.onStarted(appProcess);
  if (app.readyPattern) {
    try {
      const line = await machine.output.waitForLine(new RegExp(app.readyPattern), app.timeoutMs, 'app');
      hooks.metrics.app_ready_ms = metric(line.t - (startedAt - machine.origin), 'ms');
    } catch (error) {
      if (!(error instanceof DeadlineError)) throw error;
      const last = machine.output.lastLine('app')?.text ?? '(no output)';
      return `the application never printed a line matching /${app.readyPattern}/ within ${app.timeoutMs} ms; last line: ${JSON.stringify(last)}`;
    }
  }
  // Settles when the application really exits; rejects when it could not be followed (the agent
  // failed outside a migration handover), which must never read as "the application ended".
  const appEnded = appProcess.wait(app.timeoutMs + 60_000);
  const { load, failure: loadNotStarted } = hooks.network ? await startAppLoad(cell, machine, hooks.network, app.timeoutMs) : {};
  if (loadNotStarted) return loadNotStarted;
  let lost: unknown;
  appEnded.catch((error: unknown) => (lost = error));
  await hooks.duringApp(startedAt, appEnded);
  if (lost !== undefined && !(lost instanceof DeadlineError)) {
    throw new InfrastructureError('APP_LOST', `lost track of the application: ${describeError(lost)}`, { cause: lost });
  }

  if (app.service) {
    if (!(await appProcess.isRunning())) {
      const result = await appProcess.wait(1_000);
      return `the application (a service) ended during the test: it ${await explainExit(cell, machine, result, hooks.onSigill)}`;
    }
    if (app.health) {
      const health = await checkHealth(cell, machine);
      if (!health.healthy) return `health check ${describeHealth(app.health)} failed: ${health.detail}`;
    }
    const loadFailure = await stopLoad(load, hooks.metrics);
    await appProcess.kill('TERM');
    try {
      await appProcess.wait(10_000);
    } catch {
      await appProcess.kill('KILL');
    }
    hooks.metrics.app_ms = metric(performance.now() - startedAt, 'ms');
    return loadFailure;
  }

  const remaining = Math.max(1_000, app.timeoutMs - (performance.now() - startedAt));
  let result;
  try {
    result = await appProcess.wait(remaining);
  } catch (error) {
    if (!(error instanceof DeadlineError)) throw error;
    await appProcess.kill('KILL').catch(() => undefined);
    return `the application did not exit within its timeout of ${app.timeoutMs} ms`;
  }
  const loadFailure = await stopLoad(load, hooks.metrics);
  hooks.metrics.app_ms = metric(performance.now() - startedAt, 'ms');
  if (result.exitCode !== app.expectExit) {
    const tail = (result.stderr || result.stdout || machine.output.lastLine('app')?.text || '').trim().split('\n').slice(-3).join(' | ');
    return `the application ${await explainExit(cell, machine, result, hooks.onSigill)}, expected ${app.expectExit}${tail ? `: ${tail}` : ''}`;
  }
  return loadFailure;
}

/** Stop the host-side load with the application; its failure is the cell's. */
async function stopLoad(load: LoadGenerator | undefined, metrics: Metrics): Promise<string | undefined> {
  if (!load) return undefined;
  const failure = await load.stop();
  metrics.load_runs = metric(load.runs, 'count');
  return failure;
}

