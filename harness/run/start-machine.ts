import { UnsupportedError } from '../core/errors.js';
import type { Cell } from '../model/cell.js';
import type { StartedMachine } from '../machines/machine.js';
import type { ResourceScope } from '../core/scope.js';
import type { KvmProbe } from '../machines/qemu/accel.js';
import { startQemuMachine } from '../machines/qemu/machine.js';
import { copyPayload, copyPayloadThroughAgent, payloadGoesThroughAgent } from '../machines/agent-payload.js';
import type { HostPool } from '../machines/hosts/pool.js';
import type { SnapshotPool } from '../snapshots/pool.js';

export interface MachineFactoryOptions {
  kvm: KvmProbe;
  /** Host files of the application under test (resolved `@tools/...` tokens). */
  appFiles(cell: Cell): Promise<string[]>;
  hosts?: HostPool;
  /** Restore VM cells from golden snapshots (one boot per configuration); absent = cold boots. */
  snapshots?: SnapshotPool;
}

/**
 * Start the machine a cell asks for. VM backends get the app in their boot payload; the others
 * get the files copied into their payload directory. Backends load lazily, so a missing daemon
 * or library only affects the cells that need it.
 */
export function createMachineFactory(options: MachineFactoryOptions) {
  return async (cell: Cell, scope: ResourceScope, hints: { coldBoot?: string } = {}): Promise<StartedMachine> => {
    const files = await options.appFiles(cell);
    switch (cell.backend) {
      case 'qemu': {
        const machine = options.snapshots
          ? await options.snapshots.start(cell.machine, { scope, name: cell.id, payload: { files }, ...hints })
          : await startQemuMachine(cell.machine, { scope, name: cell.id, payload: { files }, kvm: options.kvm });
        return payloadGoesThroughAgent(cell.machine.image) ? copyPayloadThroughAgent(machine, files) : machine;
      }
      case 'libvirt': {
        const [{ startLibvirtForCell }, { placeOnLibvirtHost }] = await Promise.all([import('../machines/libvirt/for-cell.js'), import('../machines/libvirt/migration-hosts.js')]);
        const placed = await placeOnLibvirtHost(cell, scope, options.hosts);
        return startLibvirtForCell(cell, { scope, files, kvm: options.kvm, ...(placed ? { placed } : {}) });
      }
      case 'local': {
        const { startLocalMachine } = await import('../machines/local/index.js');
        return copyPayload(await startLocalMachine({ scope, name: cell.id }), files);
      }
      case 'container': {
        const { startContainerMachine } = await import('../machines/container/index.js');
        const machine = await startContainerMachine({ cpus: cell.machine.vcpus, memoryMiB: cell.machine.memoryMiB, name: cell.id }, { scope });
        return copyPayload(machine, files);
      }
      case 'ssh': {
        if (!cell.host) throw new UnsupportedError('NO_HOST', `cell ${cell.id} has backend ssh but no host`);
        if (!options.hosts) throw new UnsupportedError('NO_HOST', 'no host pool configured');
        const { connectSshMachine } = await import('../machines/ssh/index.js');
        const lease = await options.hosts.acquire({ name: cell.host.name });
        scope.register({ name: `host lease ${lease.host.name}`, kind: 'host-state', dispose: async () => lease.release(), disposeSync: () => lease.release() });
        return copyPayload(await connectSshMachine(lease.host, { scope }), files);
      }
    }
  };
}
