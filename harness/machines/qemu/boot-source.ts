import { ensureDefaultImage } from '../../images/default-image.js';
import { withPayload, type Payload } from '../../images/payload.js';
import { createOverlay } from '../../images/overlay.js';
import type { ImageRef } from '../../model/machine-spec.js';
import type { QemuLaunchConfig } from './argv.js';

/**
 * Resolve where a guest boots from. The default image gets the application payload appended as a
 * second initramfs archive; a user's disk gets a private qcow2 overlay (the base is never written).
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
    case 'disk': {
      const overlay = await createOverlay(image.path, options.overlayDir);
      return { kind: 'disk', path: overlay, format: 'qcow2' };
    }
  }
}

function join(base: string, extra: string | undefined): string {
  return extra ? `${base} ${extra}` : base;
}
