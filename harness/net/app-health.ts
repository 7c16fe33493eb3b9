import { request } from 'node:http';
import type { Cell, HealthCheck } from '../model/cell.js';
import type { StartedMachine } from '../machines/machine.js';
import { execLocal } from '../machines/local/local-process.js';
import { probeOnce } from './prober.js';
import type { ForwardTarget } from './port-forward.js';
import { expandArgv, type OpenPorts } from './guest-ports.js';
import { appEnv } from '../matrix/app-env.js';

export interface HealthResult {
  healthy: boolean;
  /** What the check saw, in words (the command's output, the HTTP status, the TCP error). */
  detail: string;
}

const opened = new WeakMap<StartedMachine, OpenPorts>();

/** Remember a machine's forwarded ports, so suites' health checks reach them too. */
export function rememberPorts(machine: StartedMachine, ports: OpenPorts): void {
  opened.set(machine, ports);
}

export function portsOf(machine: StartedMachine): OpenPorts | undefined {
  return opened.get(machine);
}

/** Words for a health check in reports: the argv, `tcp :6379`, `http :8080/healthz`. */
export function describeHealth(check: HealthCheck): string {
  if (Array.isArray(check)) return check.join(' ');
  if ('tcp' in check) return `tcp :${check.tcp} from the host`;
  if ('http' in check) return `http :${check.port}${check.http} from the host`;
  return `${check.host.join(' ')} on the host`;
}

/**
 * Run the cell's health check: in the guest (a plain argv), or from the host through the
 * forwarded port (tcp, http, host command with BW_PORT_* in its environment and argv).
 */
export async function checkHealth(cell: Cell, machine: StartedMachine, timeoutMs = 10_000): Promise<HealthResult> {
  const check = cell.app.health;
  if (!check) return { healthy: true, detail: 'no health check declared' };
  if (Array.isArray(check)) {
    const result = await machine.exec(check, { timeoutMs });
    return { healthy: result.exitCode === 0, detail: result.exitCode === 0 ? `healthy: ${result.stdout.trim()}` : `exited ${result.exitCode}: ${(result.stderr || result.stdout).trim()}` };
  }
  const ports = portsOf(machine);
  if (!ports) return { healthy: false, detail: `${describeHealth(check)}: the application's ports were never forwarded` };
  if ('tcp' in check) {
    try {
      // Straight to the guest's current forward: through the harness forwarder a port the guest
      // refuses can reach the client as a clean close instead of a reset (measured, not yet explained).
      const target = machine.guestPorts ? await machine.guestPorts.target(check.tcp) : ports.address(check.tcp);
      // Half a second for the guest to refuse before our half-close (see Probe): once per check, so it can afford it.
      await probeOnce(target, { kind: 'tcp' }, timeoutMs, undefined, 500);
      return { healthy: true, detail: `healthy: port ${check.tcp} answered` };
    } catch (error) {
      return { healthy: false, detail: `port ${check.tcp} did not answer: ${(error as Error).message}` };
    }
  }
  if ('http' in check) {
    const status = await httpStatus(ports.address(check.port), check.http, timeoutMs).catch((error: Error) => error);
    if (status instanceof Error) return { healthy: false, detail: `GET ${check.http} on port ${check.port}: ${status.message}` };
    return { healthy: status < 400, detail: `GET ${check.http} on port ${check.port}: HTTP ${status}` };
  }
  const env = { ...appEnv(cell), ...ports.env };
  const result = await execLocal(expandArgv(check.host, env), { env, timeoutMs });
  const output = (result.stdout.trim() || result.stderr.trim()).split('\n').slice(-2).join(' | ');
  if (result.timedOut) return { healthy: false, detail: `timed out after ${timeoutMs} ms` };
  return { healthy: result.exitCode === 0, detail: result.exitCode === 0 ? `healthy: ${output}` : `exited ${result.exitCode}: ${output}` };
}

function httpStatus(target: ForwardTarget, path: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: target.host, port: target.port, path, method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
