import { UnsupportedError } from '../core/errors.js';
import type { Cell } from '../model/cell.js';
import type { StartedMachine } from '../machines/machine.js';
import { PortForwarder, type ForwardTarget } from './port-forward.js';
import type { ResourceScope } from '../core/scope.js';

/** The application's guest ports as the host sees them, for the whole cell. */
export interface OpenPorts {
  /** Guest port → loopback port on this host (stable across live migrations). */
  readonly ports: Record<string, number>;
  /** BW_PORT_<guest port> for host-side commands. */
  readonly env: Record<string, string>;
  /** Where clients connect for `guestPort`. */
  address(guestPort: number): ForwardTarget;
}

/** The ports a cell's host-side checks and load reach: app.ports plus those its health check names. */
export function cellPorts(cell: Cell): number[] {
  const ports = new Set(cell.app.ports ?? []);
  const health = cell.app.health;
  if (health && !Array.isArray(health)) {
    if ('tcp' in health) ports.add(health.tcp);
    if ('http' in health) ports.add(health.port);
  }
  return [...ports];
}

/**
 * Open a loopback listener per guest port, forwarding to wherever the guest is reachable at the
 * time of each connection (a migration moves it). On `local`, the application already runs on
 * this host: its ports are its own. Torn down with the cell's scope.
 */
export async function openGuestPorts(cell: Cell, machine: StartedMachine, scope: ResourceScope): Promise<OpenPorts | undefined> {
  const wanted = cellPorts(cell);
  if (wanted.length === 0) return undefined;
  const ports: Record<string, number> = {};
  if (machine.backend === 'local') {
    for (const port of wanted) ports[port] = port;
  } else {
    const access = machine.guestPorts;
    if (!access) {
      const why = cell.machine.network === 'none' ? 'the cell has network: none' : `the ${machine.backend} backend does not forward guest ports`;
      throw new UnsupportedError('NO_GUEST_NETWORK', `app.ports ${wanted.join(', ')} cannot be reached from the host: ${why}`);
    }
    for (const port of wanted) {
      const forwarder = await PortForwarder.open({ resolveTarget: () => access.target(port) });
      scope.register({ name: `port forward 127.0.0.1:${forwarder.port} → guest :${port}`, kind: 'socket', dispose: () => forwarder.close() });
      ports[port] = forwarder.port;
    }
  }
  const env = Object.fromEntries(Object.entries(ports).map(([guest, host]) => [`BW_PORT_${guest}`, String(host)]));
  return {
    ports,
    env,
    address: (guestPort) => {
      const port = ports[guestPort];
      if (port === undefined) throw new Error(`guest port ${guestPort} is not forwarded (app.ports: ${Object.keys(ports).join(', ')})`);
      return { host: '127.0.0.1', port };
    },
  };
}

/** Expand `$BW_PORT_6379` / `${BW_PORT_6379}` (and any name in `env`) in a host-side argv. */
export function expandArgv(argv: string[], env: Record<string, string>): string[] {
  return argv.map((arg) => arg.replace(/\$\{?([A-Z_][A-Z0-9_]*)\}?/g, (whole, name: string) => env[name] ?? whole));
}
