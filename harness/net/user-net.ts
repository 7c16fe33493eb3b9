import { InfrastructureError } from '../core/errors.js';
import type { ForwardTarget } from './port-forward.js';

/** Runs a human-monitor (HMP) command on one QEMU and returns its text. */
export type HmpRunner = (commandLine: string) => Promise<string>;

/**
 * Host forwards on one QEMU's user-mode netdev, added on first use: `hostfwd_add` with host port 0
 * lets the kernel pick a free loopback port (no race between harnesses), which `info usernet`
 * then tells. Slirp does not migrate host forwards, so every QEMU process needs its own.
 */
export class UserNetForwards {
  private readonly ports = new Map<number, Promise<number>>();

  constructor(
    private readonly hmp: HmpRunner,
    private readonly netdev: string,
  ) {}

  /** The loopback port of this QEMU that reaches the guest's TCP `guestPort`. */
  target(guestPort: number): Promise<ForwardTarget> {
    let port = this.ports.get(guestPort);
    if (!port) {
      port = this.add(guestPort);
      this.ports.set(guestPort, port);
      port.catch(() => this.ports.delete(guestPort));
    }
    return port.then((p) => ({ host: '127.0.0.1', port: p }));
  }

  private async add(guestPort: number): Promise<number> {
    const added = await this.hmp(`hostfwd_add ${this.netdev} tcp:127.0.0.1:0-:${guestPort}`);
    if (added.trim()) throw new InfrastructureError('HOSTFWD_FAILED', `QEMU refused a forward to guest port ${guestPort}: ${added.trim()}`);
    const table = await this.hmp('info usernet');
    const port = hostForwardPort(table, guestPort);
    if (port === undefined) {
      throw new InfrastructureError('HOSTFWD_FAILED', `no host forward to guest port ${guestPort} in 'info usernet': ${table.trim().split('\n').slice(-4).join(' | ')}`);
    }
    return port;
  }
}

/**
 * The host port of the forward to `guestPort` in `info usernet`, whose rows read
 * `TCP[HOST_FORWARD]  13  127.0.0.1 44907  10.0.2.15  6379  0  0`.
 */
export function hostForwardPort(table: string, guestPort: number): number | undefined {
  for (const line of table.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields[0] !== 'TCP[HOST_FORWARD]' || fields.length < 6) continue;
    if (Number(fields[5]) === guestPort) return Number(fields[3]);
  }
  return undefined;
}

/**
 * Host forwards of a machine whose QEMU changes with live migration: one UserNetForwards per QEMU
 * (keyed by whatever identifies it), and the ports asked so far, so a handover can add them to the
 * destination before the first client connects there.
 */
export class MigratingForwards<K> {
  private readonly byInstance = new Map<K, UserNetForwards>();
  private readonly asked = new Set<number>();

  constructor(
    private readonly hmpOf: (instance: K) => HmpRunner,
    private readonly netdev: string,
  ) {}

  target(instance: K, guestPort: number): Promise<ForwardTarget> {
    this.asked.add(guestPort);
    let forwards = this.byInstance.get(instance);
    if (!forwards) {
      forwards = new UserNetForwards(this.hmpOf(instance), this.netdev);
      this.byInstance.set(instance, forwards);
    }
    return forwards.target(guestPort);
  }

  /** Add every port in use to `instance` now; the old instances are forgotten. */
  handOver(instance: K): void {
    for (const key of [...this.byInstance.keys()]) if (key !== instance) this.byInstance.delete(key);
    for (const port of this.asked) this.target(instance, port).catch(() => undefined);
  }
}
