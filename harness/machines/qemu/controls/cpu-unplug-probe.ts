import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cacheDir } from '../../../core/cache-dir.js';
import { describeError } from '../../../core/errors.js';
import type { QemuMachine } from '../machine.js';

/** Whether a real vCPU `device_del` works on this QEMU build and accelerator, as measured once. */
export interface CpuUnplugProbe {
  works: boolean;
  /** QEMU's version (and package) and the accelerator the probe ran with. */
  qemu: string;
  accel: string;
  /** What the probe saw, in one sentence. */
  detail: string;
  probeMs: number;
  probedAt: string;
}

const running = new Map<string, Promise<CpuUnplugProbe>>();

/** Where a probe's answer is kept: one file per QEMU version and accelerator. */
export function probeCachePath(key: string, root = cacheDir()): string {
  return join(root, 'probes', `cpu-device-del-${key.replace(/[^A-Za-z0-9._-]+/g, '_')}.json`);
}

/**
 * Whether vCPU `device_del` really works here. QEMU 7.2 under TCG ejects the CPU but then crashes
 * on the next CPU `device_add` (QEMU-NOTES), so this is never assumed: a throwaway guest with the
 * same QEMU, image and accelerator plugs a vCPU, unplugs it with `device_del` (the device's own
 * DEVICE_DELETED must arrive), plugs again and must still answer. The answer is cached on disk per
 * QEMU version and accelerator, and shared by concurrent callers in this process. A probe that
 * could not run at all (boot failure) rejects and is not cached.
 */
export function probeCpuDeviceDel(machine: QemuMachine, options: { cacheRoot?: string } = {}): Promise<CpuUnplugProbe> {
  const { qemu } = machine.qmp.greeting.QMP.version;
  const version = `${qemu.major}.${qemu.minor}.${qemu.micro}${machine.qmp.greeting.QMP.version.package ? ` ${machine.qmp.greeting.QMP.version.package.trim()}` : ''}`;
  const key = `${version}-${machine.accel}`;
  const path = probeCachePath(key, options.cacheRoot);
  let answer = running.get(path);
  if (!answer) {
    answer = cachedOrProbe(path, () => runProbe(machine, version));
    running.set(path, answer);
    answer.catch(() => running.delete(path));
  }
  return answer;
}

async function cachedOrProbe(path: string, probe: () => Promise<CpuUnplugProbe>): Promise<CpuUnplugProbe> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as CpuUnplugProbe;
  } catch {
    const answer = await probe();
    await mkdir(dirname(path), { recursive: true });
    const temp = `${path}.${process.pid}.tmp`;
    await writeFile(temp, `${JSON.stringify(answer, null, 2)}\n`);
    await rename(temp, path);
    return answer;
  }
}

async function runProbe(machine: QemuMachine, version: string): Promise<CpuUnplugProbe> {
  const started = performance.now();
  const scope = machine.scope.child('cpu-device-del-probe');
  const answer = (works: boolean, detail: string): CpuUnplugProbe => ({
    works,
    qemu: version,
    accel: machine.accel,
    detail,
    probeMs: Math.round(performance.now() - started),
    probedAt: new Date().toISOString(),
  });
  try {
    // Imported here: machine.ts builds the controls, so a static import would be circular.
    const { startQemuMachine } = await import('../machine.js');
    const spec = { ...machine.launch.spec, vcpus: 1, maxVcpus: 2 };
    const probe = await startQemuMachine(spec, { scope, name: `${machine.name}-cpu-probe`, launch: { ...machine.launch, spec } });
    const plug = await probe.controls.cpus!.plug();
    const id = String(plug.detail?.device);
    const events: string[] = [];
    // Once the guest has ejected the CPU (its lapic is deleted), the CPU's own event follows at once
    // where unplug works: 1.5 s more is plenty; without any ejection, 8 s in all.
    let ejected!: () => void;
    const lapicGone = new Promise<void>((resolve) => (ejected = resolve));
    probe.qmp.on('event', (event: { event: string; data: Record<string, unknown> }) => {
      if (event.event !== 'DEVICE_DELETED') return;
      events.push(String(event.data.device ?? event.data.path));
      if (String(event.data.path ?? '').endsWith('/lapic')) ejected();
    });
    const deleted = probe.qmp.waitForEvent('DEVICE_DELETED', { match: { device: id }, timeoutMs: 8_000 });
    await probe.qmp.execute('device_del', { id });
    const late = lapicGone.then(() => sleep(1_500)).then(() => Promise.reject(new Error('no DEVICE_DELETED 1.5 s after the ejection')));
    late.catch(() => undefined);
    try {
      await Promise.race([deleted, late]);
    } catch {
      return answer(false, `device_del ${id}: DEVICE_DELETED for the CPU itself never came (seen: ${events.join(', ') || 'nothing'})`);
    }
    probe.hotplugged.splice(0);
    const crashed = probe.lost.then((error) => {
      throw error;
    });
    crashed.catch(() => undefined);
    try {
      await Promise.race([
        (async () => {
          await probe.controls.cpus!.plug();
          await probe.qmp.execute('query-status');
        })(),
        crashed,
      ]);
    } catch (error) {
      return answer(false, `device_del ${id} completed, but plugging a vCPU again then failed: ${describeError(error)}`);
    }
    return answer(true, `device_del ${id} completed (DEVICE_DELETED) and a vCPU plugged again afterwards`);
  } finally {
    await scope.dispose();
  }
}
