import type { QemuVersion } from './binary.js';

export type KnownProblemId = 'multi-vcpu-migration-corruption' | 'cpu-device-del';

/**
 * A QEMU bug bothworlds runs into, by version range. Ranges are what was measured on the
 * project's machines (docs/qemu-versions.md): `until` is the first version measured unaffected, so
 * versions between the last bad and the first good one are listed as affected, not assumed fixed.
 */
export interface KnownProblem {
  id: KnownProblemId;
  /** First affected version, "major.minor" (inclusive). */
  from: string;
  /** First version measured unaffected, "major.minor" (exclusive); absent: still affected. */
  until?: string;
  /** The accelerator it was measured under; absent: any. */
  accel?: 'tcg' | 'kvm';
  summary: string;
  /** What bothworlds does about it, or what the user can do. */
  handling: string;
  /** The versions it was measured on. */
  measured: string;
}

export const KNOWN_PROBLEMS: readonly KnownProblem[] = [
  {
    id: 'multi-vcpu-migration-corruption',
    from: '7.2',
    until: '10.0',
    accel: 'tcg',
    summary: 'a guest with 2 or more vCPUs dirtying memory hangs or panics on the destination right after a live migration (1 in 3 to 5 under load)',
    handling: 'the migrate event fails as GUEST_PANICKED_AFTER_MIGRATION, an infrastructure error; run QEMU 10 (scripts/setup.sh installs it from bookworm-backports)',
    measured: '7.2.22: affected; 10.0.2: 12 of 12 clean (8.x and 9.x not measured)',
  },
  {
    id: 'cpu-device-del',
    from: '7.2',
    accel: 'tcg',
    summary: 'vCPU device_del: the guest ejects the CPU but QEMU deletes only its lapic (7.2: the next vCPU device_add crashes QEMU)',
    handling: 'cpu-unplug offlines the vCPU through the guest agent instead (a device_del probe decides, per QEMU version and accelerator)',
    measured: '7.2.22 and 10.0.2',
  },
];

/** -1, 0 or 1 as `version` is before, in or after the "major.minor" series `series`. */
export function compareSeries(version: Pick<QemuVersion, 'major' | 'minor'>, series: string): number {
  const [major = 0, minor = 0] = series.split('.').map(Number);
  return Math.sign(version.major - major || version.minor - minor);
}

/** The known problems of a QEMU version; `accel` undefined means "under whichever accelerator". */
export function knownProblemsOf(version: Pick<QemuVersion, 'major' | 'minor'>, accel?: 'tcg' | 'kvm'): KnownProblem[] {
  return KNOWN_PROBLEMS.filter(
    (p) => compareSeries(version, p.from) >= 0 && (p.until === undefined || compareSeries(version, p.until) < 0) && (accel === undefined || p.accel === undefined || p.accel === accel),
  );
}

export function hasKnownProblem(version: Pick<QemuVersion, 'major' | 'minor'>, id: KnownProblemId, accel?: 'tcg' | 'kvm'): boolean {
  return knownProblemsOf(version, accel).some((p) => p.id === id);
}
