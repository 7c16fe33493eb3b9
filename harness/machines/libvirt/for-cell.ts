import type { Cell } from '../../model/cell.js';
import type { ResourceScope } from '../../core/scope.js';
import { makeTempDir } from '../../core/temp-dir.js';
import { resolveAccel, type KvmProbe } from '../qemu/accel.js';
import type { QemuLaunchConfig } from '../qemu/argv.js';
import { nameImageInBootError, resolveBoot } from '../qemu/boot-source.js';
import type { DomainBoot } from './domain-xml.js';
import type { LibvirtMachine } from './machine.js';
import { startLibvirtMachine } from './start.js';
import { copyPayloadThroughAgent, payloadGoesThroughAgent } from '../agent-payload.js';
import { defaultMigrationUri, defaultUri } from './virsh.js';
import type { LibvirtPlacement } from './migration-hosts.js';

/**
 * A matrix cell on libvirt: the cell's image resolved as the QEMU backend does (the default image
 * with the app payload, a user's kernel, debian-12 with its root disk, a user's disk booted by its
 * own firmware), the cell's spec as domain XML.
 */
export async function startLibvirtForCell(
  cell: Cell,
  options: { scope: ResourceScope; files: string[]; kvm: KvmProbe; placed?: LibvirtPlacement },
): Promise<LibvirtMachine> {
  const accel = resolveAccel(cell.machine, options.kvm);
  const resolved = await resolveBoot(cell.machine.image, {
    payload: { files: options.files },
    // Its own temp dir, not the domain's run dir: a migration gives the domain a new run dir for its
    // sockets, while both daemons' QEMUs open the same disk file. Registered in the cell's scope, so
    // it goes after the domain (a child scope) is destroyed. QEMU runs as root on the local daemons
    // (scripts/services/libvirtd.sh), so the private 0700 parent needs no relabelling.
    overlayDir: () => {
      const dir = makeTempDir('libvirt-disk-');
      options.scope.registerTempDir(dir);
      return dir;
    },
    kernelAppend: cell.machine.kernelAppend,
  });
  // A pool host (placed by placeOnLibvirtHost) or the local daemons.
  const migrationTargetUri = defaultMigrationUri();
  const where = options.placed ?? { uri: defaultUri(), ...(migrationTargetUri ? { migrationTargetUri } : {}) };
  // A systemd guest does ~3x the default guest's boot work under TCG (as on the QEMU backend).
  const timeoutMs = cell.machine.image.kind === 'distro' ? 240_000 : 90_000;
  const machine = await startLibvirtMachine(cell.machine, domainBoot(resolved), { scope: options.scope, accel, name: cell.id, timeoutMs, ...where }).catch((error: unknown) => {
    nameImageInBootError(error, cell.machine.image);
    throw error;
  });
  // A failure copying leaves the domain to the cell's scope, whose child it is.
  if (payloadGoesThroughAgent(cell.machine.image)) await copyPayloadThroughAgent(machine, options.files);
  return machine;
}

/** The QEMU backend's boot as libvirt's `<os>` and `<disk>` take it. */
function domainBoot(boot: QemuLaunchConfig['boot']): DomainBoot {
  if (boot.kind === 'disk') return { disk: { path: boot.path, format: boot.format } };
  return { kernel: boot.kernel, initrd: boot.initrd, cmdline: boot.append, ...(boot.disk ? { disk: boot.disk } : {}) };
}
