import type { Cell } from '../model/cell.js';
import type { StartedMachine } from '../machines/machine.js';
import type { Probe } from '../net/prober.js';
import type { ResourceScope } from '../core/scope.js';
import { MigrationWindows, measureClientDowntime } from './client-downtime.js';
import { openGuestPorts, type OpenPorts } from '../net/guest-ports.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkHealth, describeHealth, rememberPorts } from '../net/app-health.js';
import { LoadGenerator } from './load-generator.js';
import { appEnv } from '../matrix/app-env.js';

/** A cell's application as the host reaches it: forwarded ports, client-side probes, the load. */
export interface AppNetwork {
  readonly open?: OpenPorts;
  /** BW_PORT_* and the app's env, for host-side commands. */
  readonly env: Record<string, string>;
  /** Start app.load (when the cell has one); its lines go to the machine's output as 'load'. */
  startLoad(): Promise<LoadGenerator | undefined>;
}

/**
 * Forward the app's guest ports to loopback, let health checks reach them, and measure the
 * client-visible downtime of every migration through the first one (the health check's port when
 * it has one). Undefined when the app declares no port and no load.
 */
export async function openAppNetwork(cell: Cell, machine: StartedMachine, scope: ResourceScope): Promise<AppNetwork | undefined> {
  const open = await openGuestPorts(cell, machine, scope);
  if (!open && !cell.app.load) return undefined;
  const windows = new MigrationWindows();
  if (open) rememberPorts(machine, open);
  const health = cell.app.health;
  let probe: Probe = { kind: 'tcp' };
  let probePort = cell.app.ports?.[0];
  if (health && !Array.isArray(health) && 'http' in health) {
    probe = { kind: 'http', path: health.http };
    probePort = health.port;
  } else if (health && !Array.isArray(health) && 'tcp' in health) probePort = health.tcp;
  if (open && probePort !== undefined && machine.backend !== 'local') measureClientDowntime(machine, open.address(probePort), probe, windows);
  const env = { ...appEnv(cell), ...open?.env };
  return {
    open,
    env,
    async startLoad() {
      if (!cell.app.load) return undefined;
      const load = await LoadGenerator.start({ command: cell.app.load, env, output: machine.output, migrations: windows });
      scope.register({ name: `load generator ${cell.app.load[0]}`, kind: 'process', dispose: async () => void (await load.stop()) });
      return load;
    },
  };
}

/**
 * Start the cell's load once the application is ready: when its health check runs on the host,
 * only after it first passes (polled every 100 ms up to `timeoutMs`), so the load does not race
 * the app's start. Returns the running load, or why it could not start.
 */
export async function startAppLoad(cell: Cell, machine: StartedMachine, network: AppNetwork, timeoutMs: number): Promise<{ load?: LoadGenerator; failure?: string }> {
  if (!cell.app.load) return {};
  const health = cell.app.health;
  if (health && !Array.isArray(health)) {
    const deadline = performance.now() + timeoutMs;
    let last = await checkHealth(cell, machine, 2_000);
    while (!last.healthy) {
      if (performance.now() > deadline) return { failure: `the application never passed its health check ${describeHealth(health)} within ${timeoutMs} ms, so its load was not started: ${last.detail}` };
      await sleep(100);
      last = await checkHealth(cell, machine, 2_000);
    }
  }
  return { load: await network.startLoad() };
}
