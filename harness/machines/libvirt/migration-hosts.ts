import type { Cell } from '../../model/cell.js';
import type { ResourceScope } from '../../core/scope.js';
import type { HostPool } from '../hosts/pool.js';

/** A place on another libvirtd for a migrating domain, held until `release`. */
export interface MigrationSlot {
  readonly uri: string;
  /** Give the slot back; idempotent. */
  release(): void;
}

/** Where a domain running on `fromUri` can migrate to. */
export interface MigrationHosts {
  /** A slot on another daemon; waits at most `timeoutMs` (a deadline naming what it awaited) or until `signal`. */
  lease(fromUri: string, timeoutMs: number, signal: AbortSignal): Promise<MigrationSlot>;
}

/** The two local daemons (or the BOTHWORLDS_LIBVIRT_* pair): each is the other's destination, no slots counted. */
export function fixedPeer(home: string, peer: string): MigrationHosts {
  return { lease: async (fromUri) => ({ uri: fromUri === peer ? home : peer, release: () => undefined }) };
}

export interface LibvirtPlacement {
  uri: string;
  migrationHosts?: MigrationHosts;
  noMigrationReason?: string;
}

/**
 * A matrix whose `hosts` name libvirt daemons runs its libvirt cells on them: a slot is leased for
 * the cell's life on the host with the most free ones (or the cell's own `host`), as the SSH pool
 * does. A migration leases a slot on another pool host the same way, for as long as the domain
 * stays there; none free, it waits (bounded by the migration's timeout). Without such hosts: the
 * local daemons (undefined).
 */
export async function placeOnLibvirtHost(cell: Cell, scope: ResourceScope, hosts: HostPool | undefined): Promise<LibvirtPlacement | undefined> {
  if (!hosts || !hosts.hosts.some((h) => h.libvirt)) return undefined;
  const lease = await hosts.acquire({ libvirt: true, ...(cell.host ? { name: cell.host.name } : {}) });
  scope.register({ name: `libvirt host lease ${lease.host.name}`, kind: 'host-state', dispose: async () => lease.release(), disposeSync: () => lease.release() });
  const uri = lease.host.libvirt!;
  if (hosts.candidates({ libvirt: true, exclude: lease.host.name }).length === 0) {
    return { uri, noMigrationReason: `the host pool has no libvirt host but "${lease.host.name}" to migrate to` };
  }
  return { uri, migrationHosts: poolMigrationHosts(hosts, cell.id) };
}

function poolMigrationHosts(hosts: HostPool, cell: string): MigrationHosts {
  return {
    lease: async (fromUri, timeoutMs, signal) => {
      const from = hosts.hosts.find((h) => h.libvirt === fromUri)?.name ?? fromUri;
      const what = `a free slot on a libvirt host of the pool other than "${from}" to migrate ${cell} to`;
      const lease = await hosts.acquireWithin({ libvirt: true, exclude: from }, timeoutMs, what, signal);
      return { uri: lease.host.libvirt!, release: () => lease.release() };
    },
  };
}
