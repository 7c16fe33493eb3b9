import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ImageRef } from '../model/machine-spec.js';
import type { StartedMachine } from './machine.js';

/**
 * Images whose boot carries no initramfs of ours for the application's files: a user's disk (its
 * own bootloader) and a user's kernel and initrd (its own init, which may switch to a root disk).
 * Their files go in through the guest agent once it answers.
 */
export function payloadGoesThroughAgent(image: ImageRef): boolean {
  return image.kind === 'disk' || image.kind === 'kernel';
}

/** Copy the application's files into the machine's payload dir (made first: a user's image has none). */
export async function copyPayloadThroughAgent(machine: StartedMachine, files: readonly string[]): Promise<StartedMachine> {
  if (files.length === 0) return machine;
  await machine.exec(['mkdir', '-p', machine.payloadDir], { timeoutMs: 30_000 });
  return copyPayload(machine, files);
}

/** Copy the application's files into the machine's payload dir, executable. */
export async function copyPayload(machine: StartedMachine, files: readonly string[]): Promise<StartedMachine> {
  for (const file of files) await machine.writeFile(join(machine.payloadDir, basename(file)), await readFile(file), 0o755);
  return machine;
}
