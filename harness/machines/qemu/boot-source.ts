import { ensureDefaultImage } from '../../images/default-image.js';
import { withPayload, type Payload } from '../../images/payload.js';
import { createOverlay } from '../../images/overlay.js';
import { ensureDistroImage } from '../../images/debian/image.js';
import type { ImageRef } from '../../model/machine-spec.js';
import type { QemuLaunchConfig } from './argv.js';

/**
 * Resolve where a guest boots from. The default image gets the application payload appended as a
 * second initramfs archive; a user's disk gets a private qcow2 overlay (the base is never written),
 * and so does a distribution image, booted with the default image's kernel and a root-mounting initramfs.
 */
export async function resolveBoot(
  image: ImageRef,
  options: { payload?: Payload; overlayDir: string; kernelAppend?: string },
): Promise<QemuLaunchConfig['boot']> {
  switch (image.kind) {
    case 'default': {
      let resolved = await ensureDefaultImage();
      if (options.payload && options.payload.files.length > 0) resolved = await withPayload(resolved, options.payload);
      return { kind: 'kernel', kernel: resolved.kernel, initrd: resolved.initrd, append: join(resolved.append, options.kernelAppend) };
    }
    case 'kernel':
      return { kind: 'kernel', kernel: image.kernel, initrd: image.initrd, append: join(image.append ?? 'console=ttyS0', options.kernelAppend) };
    case 'distro': {
      // The payload rides in the initramfs, which copies it onto the guest's own overlay before switch_root.
      let resolved = await ensureDistroImage(image.name, { packages: image.packages });
      const disk = await createOverlay(resolved.disk, options.overlayDir);
      if (options.payload && options.payload.files.length > 0) resolved = { ...resolved, ...(await withPayload(resolved, options.payload)) };
      return { kind: 'kernel', kernel: resolved.kernel, initrd: resolved.initrd, append: join(resolved.append, options.kernelAppend), disk: { path: disk, format: 'qcow2' } };
    }
    case 'disk': {
      const overlay = await createOverlay(image.path, options.overlayDir);
      return { kind: 'disk', path: overlay, format: 'qcow2' };
    }
  }
}

function join(base: string, extra: string | undefined): string {
  return extra ? `${base} ${extra}` : base;
}
