import { makeTempDir } from '../../core/temp-dir.js';
import { rmSync } from 'node:fs';
import { execa } from 'execa';
import { InfrastructureError } from '../../core/errors.js';
import { ensureTools } from '../../images/tools.js';
import { combineHashes, hashFile } from '../../images/hash.js';

const BUSYBOX = '/bin/busybox';
let pending: Promise<string> | undefined;

/**
 * A tiny local image (no registry is reachable): static busybox with its applets, plus
 * bothworlds' static tools in /opt/bothworlds/bin, `docker import`ed under a tag that is the hash
 * of its content, so it is built once per change.
 */
export function ensureContainerImage(): Promise<string> {
  pending ??= build();
  pending.catch(() => (pending = undefined));
  return pending;
}

async function build(): Promise<string> {
  const tools = await ensureTools();
  const parts: Record<string, string> = { busybox: await hashFile(BUSYBOX), builder: '1' };
  for (const [name, path] of Object.entries(tools)) parts[name] = await hashFile(path);
  const tag = `bothworlds/busybox:${combineHashes(parts).slice(0, 16)}`;
  const existing = await execa('docker', ['image', 'inspect', tag], { reject: false });
  if (existing.exitCode === 0) return tag;
  const staging = makeTempDir('rootfs-');
  try {
    const script = [
      'set -e',
      'mkdir -p bin sbin usr/bin usr/sbin tmp proc sys dev etc run opt/bothworlds/bin opt/bothworlds/app',
      `cp ${BUSYBOX} bin/busybox`,
      'for applet in $(bin/busybox --list-full); do [ -e "$applet" ] || ln -s /bin/busybox "$applet"; done',
      ...Object.values(tools).map((t) => `cp ${t} opt/bothworlds/bin/`),
      'echo "root:x:0:0:root:/root:/bin/sh" > etc/passwd',
      'tar -c -f - . | docker import -c "ENV PATH=/opt/bothworlds/bin:/opt/bothworlds/app:/usr/sbin:/usr/bin:/sbin:/bin" - "$1"',
    ].join('\n');
    const result = await execa('sh', ['-c', script, 'import-image', tag], { cwd: staging, reject: false });
    if (result.exitCode !== 0) throw new InfrastructureError('CONTAINER_IMAGE', `building ${tag} failed: ${result.stderr.trim()}`);
    return tag;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
