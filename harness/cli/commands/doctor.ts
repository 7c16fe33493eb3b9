import { availableParallelism, freemem, totalmem } from 'node:os';
import { describeContainment, localContainment } from '../../core/cgroup.js';
import { describeError } from '../../core/errors.js';
import { qemuVersion } from '../../machines/qemu/binary.js';
import { probeKvm } from '../../machines/qemu/accel.js';
import { knownProblemsOf } from '../../machines/qemu/known-problems.js';
import { ensureDefaultImage } from '../../images/default-image.js';
import { EXIT } from '../exit-codes.js';
import { parseCommand } from '../command-spec.js';
import { SPECS } from '../specs.js';

interface Finding {
  what: string;
  ok: boolean;
  /** Not fatal: bothworlds works without it (KVM: cells run under TCG). */
  optional?: boolean;
  detail: string;
  advice?: string;
}

/** Check what bothworlds needs on this machine and say, plainly, what to do about each problem. */
export async function doctorCommand(args: string[]): Promise<number> {
  const parsed = parseCommand(SPECS.doctor, args);
  if (!parsed) return EXIT.ok;
  const fresh = parsed.values.fresh === true;
  const findings: Finding[] = [];
  let version;
  try {
    version = await qemuVersion();
    findings.push({ what: 'QEMU', ok: true, detail: version.text });
  } catch (error) {
    findings.push({ what: 'QEMU', ok: false, detail: describeError(error), advice: 'run `bash scripts/setup.sh` (installs qemu-system-x86 and qemu-utils)' });
  }
  let image;
  let kvmUsable: boolean | undefined;
  try {
    image = await ensureDefaultImage();
    findings.push({ what: 'guest image', ok: true, detail: `kernel ${image.kernelRelease}, hash ${image.hash.slice(0, 12)}` });
  } catch (error) {
    findings.push({ what: 'guest image', ok: false, detail: describeError(error), advice: 'run `bash scripts/setup.sh` (installs linux-image-amd64, busybox-static, qemu-guest-agent and builds the image)' });
  }
  if (version && image) {
    const kvm = await probeKvm(image, { fresh });
    kvmUsable = kvm.usable;
    findings.push({
      what: 'KVM',
      ok: kvm.usable,
      optional: true,
      detail: `${kvm.usable ? 'usable' : 'not usable'}: ${kvm.reason}${kvm.probeMs ? ` (probe ${kvm.probeMs.toFixed(0)} ms)` : ' (cached probe; --fresh to re-probe)'}`,
      ...(kvm.usable ? {} : { advice: 'cells run under TCG (slower); host-passthrough/host-model cells are skipped. On a real host: load kvm_intel/kvm_amd and give this user access to /dev/kvm' }),
    });
    findings.push({ what: 'TCG', ok: true, detail: 'available (software emulation)' });
  }
  if (version) {
    // Under the accelerator cells will use; without a probe, every problem of this version.
    const accel = kvmUsable === undefined ? undefined : kvmUsable ? 'kvm' : 'tcg';
    for (const problem of knownProblemsOf(version, accel)) {
      findings.push({
        what: 'known bug',
        ok: false,
        optional: true,
        detail: `QEMU ${version.major}.${version.minor}${problem.accel ? ` (${problem.accel.toUpperCase()})` : ''}: ${problem.summary} [${problem.id}; measured ${problem.measured}]`,
        advice: problem.handling,
      });
    }
  }
  const cores = availableParallelism();
  const freeMiB = Math.round(freemem() / 2 ** 20);
  findings.push({
    what: 'resources',
    ok: cores >= 2 && freeMiB > 1_024,
    detail: `${cores} core(s), ${freeMiB} MiB free of ${Math.round(totalmem() / 2 ** 20)} MiB; about ${Math.max(1, Math.min(cores, Math.floor(freeMiB / 800)))} TCG guest(s) of 512 MiB at once`,
    ...(cores < 2 ? { advice: 'a TCG guest needs a core; with one core cells run one at a time' } : {}),
  });
  const containment = localContainment();
  findings.push({
    what: 'local apps',
    ok: containment.kind === 'cgroup',
    optional: true,
    detail: describeContainment(containment),
    ...(containment.kind === 'cgroup' ? {} : { advice: 'as root with a writable cgroup v2 hierarchy every local application gets a cgroup nothing it starts can leave; otherwise run daemons in a VM or container cell' }),
  });
  for (const f of findings) {
    process.stdout.write(`${f.ok ? 'ok  ' : f.optional ? 'warn' : 'FAIL'}  ${f.what.padEnd(12)} ${f.detail}\n`);
    if (f.advice) process.stdout.write(`      ${''.padEnd(12)} → ${f.advice}\n`);
  }
  const blocking = findings.filter((f) => !f.ok && !f.optional);
  return blocking.length > 0 ? EXIT.infrastructure : EXIT.ok;
}
