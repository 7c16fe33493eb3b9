import { accessSync, constants, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InfrastructureError, UnsupportedError } from '../../core/errors.js';
import { ResourceScope } from '../../core/scope.js';
import { LineBuffer } from '../line-source.js';
import { DEFAULT_MACHINE, type MachineSpec } from '../../model/machine-spec.js';
import { cacheDir } from '../../core/cache-dir.js';
import { qemuVersion } from './binary.js';
import { requiresKvm } from './argv.js';
import { QemuInstance } from './instance.js';

export interface KvmProbe {
  usable: boolean;
  reason: string;
  /** How long the probe boot took to show guest output (or to give up). */
  probeMs: number;
}

export interface ProbeImage {
  kernel: string;
  initrd: string;
  append: string;
}

const PROBE_DEADLINE_MS = 8_000;
let inProcess: Promise<KvmProbe> | undefined;

/**
 * /dev/kvm existing proves nothing (on our CI machines KVM_CREATE_VM works but guests hang after
 * real-mode setup), so KVM is probed with a short real boot: KVM is usable when the guest's init
 * prints its first line before the deadline. The answer is cached per host boot.
 */
export function probeKvm(image: ProbeImage, options: { fresh?: boolean } = {}): Promise<KvmProbe> {
  if (options.fresh) inProcess = undefined;
  inProcess ??= probeKvmCached(image, options.fresh ?? false);
  return inProcess;
}

async function probeKvmCached(image: ProbeImage, fresh: boolean): Promise<KvmProbe> {
  const forced = process.env.BOTHWORLDS_KVM;
  if (forced === '0') return { usable: false, reason: 'disabled by BOTHWORLDS_KVM=0', probeMs: 0 };
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch (error) {
    return { usable: false, reason: `/dev/kvm is not accessible (${(error as NodeJS.ErrnoException).code})`, probeMs: 0 };
  }
  const version = await qemuVersion();
  const key = `${readBootId()}-${version.text}`;
  const file = join(cacheDir(), 'kvm-probe.json');
  if (!fresh) {
    try {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as { key: string; probe: KvmProbe };
      if (saved.key === key) return saved.probe;
    } catch {
      // No cached answer yet.
    }
  }
  const probe = await bootProbe(image);
  mkdirSync(cacheDir(), { recursive: true });
  writeFileSync(file, JSON.stringify({ key, probe }));
  return probe;
}

async function bootProbe(image: ProbeImage): Promise<KvmProbe> {
  const scope = new ResourceScope('kvm-probe');
  const lines = new LineBuffer();
  const started = performance.now();
  const spec: MachineSpec = { ...DEFAULT_MACHINE, cpuModel: 'max', balloon: false };
  try {
    const instance = await QemuInstance.start({
      scope,
      lines,
      name: 'kvm-probe',
      config: { spec, accel: 'kvm', boot: { kind: 'kernel', ...image } },
    });
    // Any line from the guest's init means the guest ran past the point where broken KVM hangs.
    await lines.waitForLine(/bothworlds:/, PROBE_DEADLINE_MS, 'console');
    await instance.stop();
    return { usable: true, reason: 'a KVM guest booted to init', probeMs: performance.now() - started };
  } catch (error) {
    return { usable: false, reason: probeFailure(error, lines), probeMs: performance.now() - started };
  } finally {
    await scope.dispose();
  }
}

/**
 * Why the KVM test boot failed, in QEMU's or the guest's words: a QEMU that exited says why on
 * stderr (here: "failed to set MSR 0x10a"); a guest that hung shows its last console line.
 */
export function probeFailure(error: unknown, lines: LineBuffer): string {
  if (error instanceof InfrastructureError && error.code === 'QEMU_EXITED') {
    const stderr = String(error.details?.stderr ?? '').split('\n').map((l) => l.replace(/^\S*qemu-system-\S+: /, '').trim()).filter(Boolean);
    const how = error.details?.signal ? `was killed by ${String(error.details.signal)}` : `exited with code ${String(error.details?.exitCode)}`;
    return `QEMU ${how} at the start of a KVM test boot${stderr.length > 0 ? `: ${stderr.slice(-3).join(' | ')}` : ' and printed nothing'}`;
  }
  const last = lines.lastLine('console')?.text;
  const why = error instanceof Error ? error.message : String(error);
  return `a KVM test boot did not reach init within ${PROBE_DEADLINE_MS} ms (${last ? `last console line: ${JSON.stringify(last)}` : why})`;
}

/** Decide the accelerator of a cell, or explain why it cannot run here. */
export function resolveAccel(spec: MachineSpec, kvm: KvmProbe): 'kvm' | 'tcg' {
  if (spec.accel === 'kvm' && !kvm.usable) {
    throw new UnsupportedError('KVM_UNAVAILABLE', `accel kvm requested but KVM is not usable here: ${kvm.reason}`);
  }
  const accel = spec.accel === 'auto' ? (kvm.usable ? 'kvm' : 'tcg') : spec.accel;
  if (accel === 'tcg' && requiresKvm(spec.cpuModel)) {
    throw new UnsupportedError(
      'NEEDS_KVM',
      `CPU model '${spec.cpuModel}' requires KVM (QEMU: "CPU model 'host' requires KVM or HVF"); KVM: ${kvm.reason}`,
    );
  }
  return accel;
}

function readBootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown-boot';
  }
}
