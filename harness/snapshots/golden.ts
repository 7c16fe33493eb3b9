import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MachineSpec } from '../model/machine-spec.js';
import type { ResourceScope } from '../core/scope.js';
import { qemuVersion } from '../machines/qemu/binary.js';
import { startQemuMachine, type QemuLaunch, type QemuMachine } from '../machines/qemu/machine.js';
import { waitForSystemd } from '../images/debian/settle.js';
import { saveSnapshot, type SavedSnapshot } from './save.js';
import { stateFileName, stateFormatOf, type StateFormat } from './state-format.js';
import { keepGoldenDisk, launchDisk } from './disk-state.js';

export interface Snapshot {
  folder: string;
  file: string;
  format: StateFormat;
}

/** Ready to be saved: a command runs (not merely the agent syncs); a systemd guest finished booting. */
async function settle(machine: QemuMachine, spec: MachineSpec): Promise<void> {
  await machine.exec(['true'], { timeoutMs: 30_000 });
  if (spec.image.kind === 'distro') await waitForSystemd(machine);
}

async function writeMeta(folder: string, key: string, spec: MachineSpec, saved: SavedSnapshot, format: StateFormat, bootMs: number | undefined, how: string): Promise<void> {
  const meta = { key, createdAt: new Date().toISOString(), qemu: (await qemuVersion()).text, spec, format, how, bytes: saved.bytes, saveMs: saved.saveMs, bootMs };
  writeFileSync(join(folder, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
}

/**
 * Save a running cell's guest as the configuration's snapshot and let it go on (the donor): it
 * has just booted cold, its app has not started. Costs the cell one save (~0.1–0.3 s).
 */
export async function donateSnapshot(machine: QemuMachine, spec: MachineSpec, key: string, dir: string): Promise<{ snapshot: Snapshot; saveMs: number }> {
  const folder = join(dir, key);
  mkdirSync(folder, { recursive: true });
  await settle(machine, spec);
  const format = await stateFormatOf(machine.qmp);
  const file = join(folder, stateFileName(format));
  const saved = await saveSnapshot(machine, file, format, { resume: true });
  // The donor's clock stood still while it was saved.
  await machine.agent.setTime();
  await writeMeta(folder, key, spec, saved, format, machine.startMetrics.boot_ms?.value, 'donor');
  return { snapshot: { folder, file, format }, saveMs: saved.saveMs };
}

/**
 * Boot a separate golden guest and save it: for a guest with a root disk, whose overlay is kept
 * beside the RAM state (disk-state.ts); the state is renamed into place only once the disk is
 * there, so a reader never sees one without the other.
 */
export async function bootGolden(spec: MachineSpec, launch: QemuLaunch, key: string, dir: string, scope: ResourceScope): Promise<{ snapshot: Snapshot; saveMs: number; bootMs?: number }> {
  const folder = join(dir, key);
  mkdirSync(folder, { recursive: true });
  const machine = await startQemuMachine(spec, { scope, name: `golden-${key.slice(0, 8)}`, launch });
  await settle(machine, spec);
  const format = await stateFormatOf(machine.qmp);
  const file = join(folder, stateFileName(format));
  const disk = launchDisk(launch);
  const saved = await saveSnapshot(machine, disk ? `${file}.pending` : file, format);
  const bootMs = machine.startMetrics.boot_ms?.value;
  await writeMeta(folder, key, spec, saved, format, bootMs, 'golden');
  await machine.stop();
  if (disk) {
    keepGoldenDisk(launch, folder);
    renameSync(`${file}.pending`, file);
  }
  return { snapshot: { folder, file, format }, saveMs: saved.saveMs, ...(bootMs !== undefined ? { bootMs } : {}) };
}
