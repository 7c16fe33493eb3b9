import type { HostRef } from '../../model/cell.js';

export interface HostLease {
  host: HostRef;
  release(): void;
}

interface Waiter {
  matches(host: HostRef): boolean;
  resolve(lease: HostLease): void;
  reject(error: unknown): void;
}

/**
 * The physical hosts of a matrix: a host runs one cell at a time unless it declares more `slots`.
 * Waiters are served first come, first served; an aborted wait is dropped.
 */
export class HostPool {
  private readonly inUse = new Map<string, number>();
  private readonly waiters: Waiter[] = [];

  constructor(private readonly hosts: HostRef[]) {}

  acquire(selector: { name?: string; label?: string }, signal?: AbortSignal): Promise<HostLease> {
    const matches = (host: HostRef) => (selector.name === undefined || host.name === selector.name || host.labels.includes(selector.name)) && (selector.label === undefined || host.labels.includes(selector.label));
    if (!this.hosts.some(matches)) return Promise.reject(new Error(`no host in the pool matches ${JSON.stringify(selector)}`));
    const free = this.hosts.find((h) => matches(h) && (this.inUse.get(h.name) ?? 0) < h.slots);
    if (free) return Promise.resolve(this.lease(free));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { matches, resolve, reject };
      this.waiters.push(waiter);
      signal?.addEventListener(
        'abort',
        () => {
          const index = this.waiters.indexOf(waiter);
          if (index >= 0) this.waiters.splice(index, 1);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }

  /** Cells currently holding each host. */
  usage(): Record<string, number> {
    return Object.fromEntries(this.inUse);
  }

  private lease(host: HostRef): HostLease {
    this.inUse.set(host.name, (this.inUse.get(host.name) ?? 0) + 1);
    let released = false;
    return {
      host,
      release: () => {
        if (released) return;
        released = true;
        this.inUse.set(host.name, (this.inUse.get(host.name) ?? 1) - 1);
        this.serveWaiters(host);
      },
    };
  }

  private serveWaiters(host: HostRef): void {
    const index = this.waiters.findIndex((w) => w.matches(host));
    if (index < 0 || (this.inUse.get(host.name) ?? 0) >= host.slots) return;
    const [waiter] = this.waiters.splice(index, 1);
    waiter!.resolve(this.lease(host));
  }
}
