import { open, type FileHandle } from 'node:fs/promises';
import type { LineBuffer } from '../line-source.js';
import type { ResourceScope } from '../../core/scope.js';

/** Follow libvirt's serial console log file into the line buffer (source 'console'). */
export async function tailConsole(path: string, lines: LineBuffer, scope: ResourceScope): Promise<void> {
  let file: FileHandle | undefined;
  let offset = 0;
  let stopped = false;
  const buffer = Buffer.alloc(64 * 1024);
  const poll = async (): Promise<void> => {
    while (!stopped) {
      try {
        file ??= await open(path, 'r');
        const { bytesRead } = await file.read(buffer, 0, buffer.length, offset);
        if (bytesRead > 0) {
          offset += bytesRead;
          lines.feed('console', Buffer.from(buffer.subarray(0, bytesRead)));
          continue;
        }
      } catch {
        // The file appears when QEMU starts.
      }
      await new Promise((r) => setTimeout(r, 50).unref());
    }
  };
  // Only lines.feed can throw past the loop's own catch: the tail stops, the cell goes on without it.
  poll().catch((error: unknown) => lines.feed('console', Buffer.from(`\n[bothworlds: console tail stopped: ${String(error)}]\n`)));
  scope.register({
    name: `console log ${path}`,
    kind: 'other',
    dispose: async () => {
      stopped = true;
      await file?.close().catch(() => undefined);
    },
  });
}
