import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { InfrastructureError } from '../../core/errors.js';

/** What every Debian image has: systemd, the agent, udev and kmod for hot-plug, hwclock for guest-set-time. */
export const BASE_PACKAGES = ['systemd-sysv', 'qemu-guest-agent', 'iproute2', 'udev', 'kmod', 'util-linux-extra'];

/** Big and of no use in a test guest; ~55 MB less to write into every image. */
const DPKG_EXCLUDES = ['/usr/share/doc/*', '/usr/share/man/*', '/usr/share/locale/*', '/usr/share/info/*'];

/** Kernel module trees a VM never uses (~170 of 396 MB): the rest goes in for udev and kmod. */
const SKIPPED_MODULE_DIRS = ['kernel/sound', 'kernel/drivers/gpu', 'kernel/drivers/media', 'kernel/drivers/net/wireless', 'kernel/drivers/net/ethernet', 'kernel/drivers/infiniband', 'kernel/drivers/iio', 'kernel/drivers/staging', 'kernel/drivers/usb', 'kernel/drivers/bluetooth', 'kernel/drivers/isdn'];

/**
 * Units that only slow a test guest down or wait for a human: systemd-firstboot prompts on the
 * console when /etc/machine-id is empty (it is, so every cold boot gets its own id). The serial
 * getty on ttyS0 stays.
 */
const MASKED_UNITS = [
  'systemd-firstboot.service', 'apt-daily.timer', 'apt-daily-upgrade.timer', 'dpkg-db-backup.timer', 'e2scrub_all.timer', 'e2scrub_reap.service', 'fstrim.timer',
  // No VGA: gettys on tty1-6 serve nobody (getty-static starts five of them without logind, 8.7 s under TCG).
  'getty@tty1.service', 'getty-static.service', 'systemd-pstore.service',
  'modprobe@dm_mod.service', 'modprobe@efi_pstore.service', 'modprobe@loop.service', 'modprobe@fuse.service',
];

/** The Debian mirror the host's apt already uses for bookworm (BOTHWORLDS_DEBIAN_MIRROR overrides). */
export function debianMirror(): string {
  if (process.env.BOTHWORLDS_DEBIAN_MIRROR) return process.env.BOTHWORLDS_DEBIAN_MIRROR;
  const texts: string[] = [];
  for (const file of ['/etc/apt/sources.list', ...listDir('/etc/apt/sources.list.d').map((f) => join('/etc/apt/sources.list.d', f))]) {
    try {
      texts.push(readFileSync(file, 'utf8'));
    } catch {
      // unreadable or a directory: not a source
    }
  }
  for (const text of texts) {
    for (const stanza of text.split(/\n\s*\n/)) {
      const uri = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
      if (uri && /^Suites:.*\bbookworm(\s|$)/m.test(stanza) && !uri.includes('security')) return uri;
    }
    const line = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/m.exec(text);
    if (line?.[1] && !line[1].includes('security')) return line[1];
  }
  return 'http://deb.debian.org/debian';
}

/** mmdebstrap a minbase bookworm root with `packages` into `dir` (which must not exist yet). */
export async function bootstrapRoot(dir: string, packages: string[], mirror: string, suite: string): Promise<void> {
  const args = [
    '--variant=minbase',
    `--include=${packages.join(',')}`,
    ...DPKG_EXCLUDES.map((pattern) => `--dpkgopt=path-exclude=${pattern}`),
    '--aptopt=Acquire::Retries "3"',
    suite,
    dir,
    mirror,
  ];
  const result = await execa('mmdebstrap', args, { reject: false, all: true, env: { DEBIAN_FRONTEND: 'noninteractive' } });
  if (result.exitCode !== 0) {
    const missing = (result as { code?: string }).code === 'ENOENT' || /ENOENT/.test(String(result.message));
    const tail = (result.all ?? '').trim().split('\n').filter((line) => /^E:|error|Unable/i.test(line)).slice(-4).join(' | ');
    throw new InfrastructureError(
      'IMAGE_BUILD',
      missing
        ? 'mmdebstrap is not installed: run scripts/setup.sh (scripts/packages/debian-image.txt)'
        : `mmdebstrap ${suite} with ${packages.join(', ')} from ${mirror} failed (exit ${result.exitCode}): ${tail || (result.all ?? '').trim().split('\n').slice(-3).join(' | ')}`,
    );
  }
}

export interface CustomiseInputs {
  /** Files laid over the root as they are (units, udev rules, scripts). */
  overlay: string;
  kernelRelease: string;
  modulesDir: string;
}

/** Make a bootstrapped root a bothworlds guest: overlay files, kernel modules, masked units. */
export async function customiseRoot(root: string, inputs: CustomiseInputs): Promise<void> {
  cpSync(inputs.overlay, root, { recursive: true, force: true });
  // /opt/bothworlds/bin is filled at each cold boot from the initramfs (harness/images/debian/initramfs/init).
  mkdirSync(join(root, 'opt/bothworlds/bin'), { recursive: true });
  mkdirSync(join(root, 'opt/bothworlds/app'), { recursive: true });
  const modules = join(root, 'usr/lib/modules', inputs.kernelRelease);
  mkdirSync(modules, { recursive: true });
  cpSync(inputs.modulesDir, modules, {
    recursive: true,
    filter: (source) => !SKIPPED_MODULE_DIRS.some((skip) => source === join(inputs.modulesDir, skip)),
  });
  // modules.dep must match what was copied, or kmod fails on modules that are not there.
  const depmod = await execa('depmod', ['-b', root, inputs.kernelRelease], { reject: false });
  if (depmod.exitCode !== 0) throw new InfrastructureError('IMAGE_BUILD', `depmod for the image failed: ${depmod.stderr.trim()}`);
  for (const unit of MASKED_UNITS) {
    const link = join(root, 'etc/systemd/system', unit);
    rmSync(link, { force: true });
    symlinkSync('/dev/null', link);
    for (const wants of listDir(join(root, 'etc/systemd/system'))) {
      if (wants.endsWith('.wants')) rmSync(join(root, 'etc/systemd/system', wants, unit), { force: true });
    }
  }
  for (const script of listDir(join(root, 'usr/lib/bothworlds'))) chmodSync(join(root, 'usr/lib/bothworlds', script), 0o755);
  if (!existsSync(join(root, 'sbin/hwclock'))) throw new InfrastructureError('IMAGE_BUILD', 'the image has no /sbin/hwclock (util-linux-extra): guest-set-time would not work');
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
