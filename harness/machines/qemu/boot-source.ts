import { ensureDefaultImage } from '../../images/default-image.js';
import { withPayload, type Payload } from '../../images/payload.js';
import { createOverlay } from '../../images/overlay.js';
import { ensureDistroImage } from '../../images/debian/image.js';
import type { ImageRef } from '../../model/machine-spec.js';
import type { QemuLaunchConfig } from './argv.js';
import { BothworldsError } from '../../core/errors.js';

/**
 * Resolve where a guest boots from. The default image gets the application payload appended as a
 * second initramfs archive; a user's disk gets a private qcow2 overlay (the base is never written),
 * and so does a distribution image, booted with the default image's kernel and a root-mounting initramfs.
 */
export async function resolveBoot(
  image: ImageRef,
  /** `overlayDir` is called only for an image that boots from a disk (it makes a temp dir). */
  options: { payload?: Payload; overlayDir: () => string; kernelAppend?: string },
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
      const disk = await createOverlay(resolved.disk, options.overlayDir());
      if (options.payload && options.payload.files.length > 0) resolved = { ...resolved, ...(await withPayload(resolved, options.payload)) };
      return { kind: 'kernel', kernel: resolved.kernel, initrd: resolved.initrd, append: join(resolved.append, options.kernelAppend), disk: { path: disk, format: 'qcow2' } };
    }
    case 'disk': {
      const overlay = await createOverlay(image.path, options.overlayDir());
      return { kind: 'disk', path: overlay, format: 'qcow2' };
    }
  }
}

function join(base: string, extra: string | undefined): string {
  return extra ? `${base} ${extra}` : base;
}

/**
 * A guest that never answered names the image it booted: with several images in a matrix, "no agent"
 * alone does not say which one lacks qemu-ga or does not boot. The message already has the console's
 * last line.
 */
export function nameImageInBootError(error: unknown, image: ImageRef): void {
  if (image.kind === 'default' || !(error instanceof BothworldsError) || !['BOOT_TIMEOUT', 'QEMU_EXITED'].includes(error.code)) return;
  const label = image.kind === 'distro' ? `${image.name}${image.packages.length ? ` (+ ${image.packages.join(', ')})` : ''}` : image.kind === 'disk' ? image.path : image.kernel;
  error.message = `image ${label}: ${error.message}${image.kind === 'disk' ? ' (a disk image must boot by itself and run qemu-guest-agent on the virtio port org.qemu.guest_agent.0: docs/images.md)' : ''}`;
}
