import { execa } from 'execa';
import { QEMU_BINARY } from './binary.js';

/**
 * The CPU model names the QEMU that will run the cells accepts after `-cpu`. Not the `+flag`s: QEMU
 * also takes boolean properties there (`-pmu`), which `-cpu help` does not list.
 */
export interface QemuCpuNames {
  models: ReadonlySet<string>;
  /** "qemu-system-x86_64": named in messages, since another QEMU may know other models. */
  binary: string;
}

let cached: Promise<QemuCpuNames | undefined> | undefined;

/**
 * `-cpu help` of the QEMU the harness runs (it prints and exits, no machine is created): a
 * misspelt model is then an input mistake at load, not an error cell after a boot attempt.
 * Undefined when that QEMU cannot be run: the matrix may need none, and a VM cell says why it could not start.
 */
export function qemuCpuNames(): Promise<QemuCpuNames | undefined> {
  cached ??= (async () => {
    const run = await execa(QEMU_BINARY, ['-cpu', 'help'], { reject: false, timeout: 10_000 });
    if (run.exitCode !== 0) return undefined;
    const models = parseCpuHelp(run.stdout);
    return models.size > 0 ? { models, binary: QEMU_BINARY } : undefined;
  })();
  return cached;
}

/** "Available CPUs:", then one indented model per line (its name, then a description), up to a line that is not indented. */
export function parseCpuHelp(text: string): Set<string> {
  const models = new Set<string>();
  let inList = false;
  for (const line of text.split('\n')) {
    if (/^Available CPUs:/.test(line)) inList = true;
    else if (!/^\s+\S/.test(line)) inList = false;
    else if (inList) models.add(line.trim().split(/\s+/)[0]!);
  }
  return models;
}
