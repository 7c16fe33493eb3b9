import type { HostRef } from '../../model/cell.js';
import { ConfigError, DeadlineError } from '../../core/errors.js';

export interface HostSelector {
  name?: string;
  label?: string;
  /** Only hosts with a libvirt daemon (`libvirt:` in `hosts`). */
  libvirt?: boolean;
  /** Any host but this one (a migration's destination is not where the domain runs). */
  exclude?: string;
}

export interface HostLease {
  readonly host: HostRef;
  /** Give the slot back; idempotent. */
  release(): void;
}

interface Waiter {
  selector: HostSelector;
  grant: (lease: HostLease) => void;
}

/**
 * The physical hosts of a matrix. A host runs one cell at a time unless it declares more `slots`.
 * Waiters are served first-in-first-out among those a freed host can serve; an abort rejects the wait.
 */
export class HostPool {
  private readonly busy = new Map<string, number>();
  private readonly waiters: Waiter[] = [];

  constructor(readonly hosts: readonly HostRef[]) {
    const names = new Set<string>();
    for (const host of hosts) {
      if (names.has(host.name)) throw new ConfigError('HOST_DUPLICATE', `host "${host.name}" is listed twice in \`hosts\``);
      if (!Number.isInteger(host.slots) || host.slots < 1) {
        throw new ConfigError('HOST_SLOTS', `host "${host.name}" has slots ${host.slots}; expected an integer ≥ 1`);
      }
      names.add(host.name);
    }
  }

  /** Hosts the selector can match (by name, or by label). */
  candidates(selector: HostSelector): HostRef[] {
    return this.hosts.filter((h) => matches(h, selector));
  }

  acquire(selector: HostSelector, signal?: AbortSignal): Promise<HostLease> {
    if (this.candidates(selector).length === 0) {
      return Promise.reject(new ConfigError('HOST_UNKNOWN', `no host matches ${describeSelector(selector)}; hosts: ${this.hosts.map((h) => h.name).join(', ') || '(none)'}`));
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    const free = this.freeHost(selector);
    // FIFO: a newcomer never overtakes a waiter that the same free host could serve.
    if (free && !this.waiters.some((w) => matches(free, w.selector))) return Promise.resolve(this.lease(free));
    return new Promise<HostLease>((resolve, reject) => {
      const waiter: Waiter = {
        selector,
        grant: (lease) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(lease);
        },
      };
      const onAbort = (): void => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /**
   * `acquire`, bounded: past `timeoutMs` the wait ends with a DeadlineError naming `what` was awaited
   * and how the candidates' slots were used then.
   */
  acquireWithin(selector: HostSelector, timeoutMs: number, what: string, signal?: AbortSignal): Promise<HostLease> {
    const deadline = new AbortController();
    const timer = setTimeout(() => {
      const used = this.candidates(selector).map((h) => `${h.name} ${this.inUse(h.name)} of ${h.slots}`).join(', ');
      deadline.abort(new DeadlineError(what, timeoutMs, `slots used: ${used}`));
    }, timeoutMs);
    timer.unref();
    const onAbort = (): void => deadline.abort(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    return this.acquire(selector, deadline.signal).finally(() => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    });
  }

  /** Cells running on each host now (for status and tests). */
  inUse(name: string): number {
    return this.busy.get(name) ?? 0;
  }

  /** Cells running on each host now. */
  usage(): Record<string, number> {
    return Object.fromEntries(this.hosts.map((h) => [h.name, this.inUse(h.name)]));
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** The candidate with the most free slots (the first listed among equals): load spreads across hosts. */
  private freeHost(selector: HostSelector): HostRef | undefined {
    let best: HostRef | undefined;
    for (const host of this.candidates(selector)) {
      const free = host.slots - this.inUse(host.name);
      if (free > 0 && (!best || free > best.slots - this.inUse(best.name))) best = host;
    }
    return best;
  }

  private lease(host: HostRef): HostLease {
    this.busy.set(host.name, this.inUse(host.name) + 1);
    let released = false;
    return {
      host,
      release: () => {
        if (released) return;
        released = true;
        this.busy.set(host.name, this.inUse(host.name) - 1);
        this.serveWaiters();
      },
    };
  }

  private serveWaiters(): void {
    for (let i = 0; i < this.waiters.length; ) {
      const waiter = this.waiters[i]!;
      const free = this.freeHost(waiter.selector);
      if (!free) {
        i++;
        continue;
      }
      this.waiters.splice(i, 1);
      waiter.grant(this.lease(free));
    }
  }
}

function matches(host: HostRef, selector: HostSelector): boolean {
  if (selector.name !== undefined && host.name !== selector.name) return false;
  if (selector.label !== undefined && !host.labels.includes(selector.label)) return false;
  if (selector.libvirt && !host.libvirt) return false;
  if (selector.exclude !== undefined && host.name === selector.exclude) return false;
  return true;
}

function describeSelector(selector: HostSelector): string {
  const parts = [selector.name && `name "${selector.name}"`, selector.label && `label "${selector.label}"`, selector.libvirt && 'a libvirt daemon', selector.exclude && `not "${selector.exclude}"`].filter(Boolean);
  return parts.join(' and ') || 'any host';
}
