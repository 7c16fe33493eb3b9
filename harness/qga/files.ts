import { attachCleanupError } from '../core/errors.js';
import type { ExecResult } from '../model/exec-result.js';
import { AgentError } from './errors.js';

/** What file transfer needs from the agent. */
export interface FileTransport {
  command<T>(name: string, args?: Record<string, unknown>): Promise<T>;
  exec(command: string[]): Promise<ExecResult>;
}

/** qemu-ga writes what one message carries; 48 KiB raw is 64 KiB of base64 per request. */
const WRITE_CHUNK = 48 * 1024;
/** Reads have no such limit (qemu-ga caps a read at 48 MB): fewer round trips over a slow port. */
const READ_CHUNK = 1024 * 1024;

/** Open, work, close; a failed close is attached to the work's error, never replaces it. */
async function withHandle<T>(agent: FileTransport, path: string, mode: 'r' | 'w', work: (handle: number) => Promise<T>): Promise<T> {
  const handle = await agent.command<number>('guest-file-open', { path, mode });
  let result: T;
  try {
    result = await work(handle);
  } catch (error) {
    await agent.command('guest-file-close', { handle }).catch((closeError: unknown) => attachCleanupError(error, closeError));
    throw error;
  }
  await agent.command('guest-file-close', { handle });
  return result;
}

export async function writeGuestFile(agent: FileTransport, path: string, data: Buffer | string, mode?: number): Promise<void> {
  const bytes = Buffer.from(data);
  await withHandle(agent, path, 'w', async (handle) => {
    for (let offset = 0; offset < bytes.length; offset += WRITE_CHUNK) {
      const chunk = bytes.subarray(offset, offset + WRITE_CHUNK);
      const written = await agent.command<{ count: number }>('guest-file-write', { handle, 'buf-b64': chunk.toString('base64') });
      if (written.count !== chunk.length) {
        throw new AgentError('guest-file-write', 'ShortWrite', `wrote ${written.count} of ${chunk.length} bytes at offset ${offset} of ${path}`);
      }
    }
  });
  if (mode !== undefined) {
    const result = await agent.exec(['/bin/chmod', mode.toString(8), path]);
    if (result.exitCode !== 0) throw new AgentError('chmod', 'ExecFailed', `chmod ${mode.toString(8)} ${path}: ${result.stderr.trim()}`);
  }
}

export function readGuestFile(agent: FileTransport, path: string): Promise<Buffer> {
  return withHandle(agent, path, 'r', async (handle) => {
    const chunks: Buffer[] = [];
    for (;;) {
      const part = await agent.command<{ count: number; 'buf-b64': string; eof: boolean }>('guest-file-read', { handle, count: READ_CHUNK });
      chunks.push(Buffer.from(part['buf-b64'], 'base64'));
      if (part.eof || part.count === 0) return Buffer.concat(chunks);
    }
  });
}
