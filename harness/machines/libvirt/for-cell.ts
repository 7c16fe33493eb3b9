import type { Cell } from '../../model/cell.js';
import type { ResourceScope } from '../../core/scope.js';
import { ensureDefaultImage } from '../../images/default-image.js';
import { withPayload } from '../../images/payload.js';
import { UnsupportedError } from '../../core/errors.js';
import { resolveAccel, type KvmProbe } from '../qemu/accel.js';
import type { LibvirtMachine } from './machine.js';
import { startLibvirtMachine } from './start.js';
import { defaultMigrationUri, defaultUri } from './virsh.js';
import type { LibvirtPlacement } from './migration-hosts.js';

/** A matrix cell on libvirt: the default image with the app payload, the cell's spec as domain XML. */
export async function startLibvirtForCell(
  cell: Cell,
  options: { scope: ResourceScope; files: string[]; kvm: KvmProbe; placed?: LibvirtPlacement },
): Promise<LibvirtMachine> {
  if (cell.machine.image.kind !== 'default') {
    throw new UnsupportedError('LIBVIRT_IMAGE', 'the libvirt backend boots the default image; user kernels and disks run on the qemu backend');
  }
  const accel = resolveAccel(cell.machine, options.kvm);
  let image = await ensureDefaultImage();
  if (options.files.length > 0) image = await withPayload(image, { files: options.files });
  // A pool host (placed by placeOnLibvirtHost) or the local daemons.
  const migrationTargetUri = defaultMigrationUri();
  const where = options.placed ?? { uri: defaultUri(), ...(migrationTargetUri ? { migrationTargetUri } : {}) };
  return startLibvirtMachine(
    cell.machine,
    { kernel: image.kernel, initrd: image.initrd, cmdline: [image.append, cell.machine.kernelAppend].filter(Boolean).join(' ') },
    { scope: options.scope, accel, name: cell.id, ...where },
  );
}
