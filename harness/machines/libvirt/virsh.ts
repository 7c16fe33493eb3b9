import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { InfrastructureError } from '../../core/errors.js';
import { ambientTranscript } from '../../core/transcript.js';

/** bothworlds' own libvirtd instances (scripts/services/libvirtd.sh): one per stand-in "host". */
export function instanceUri(name: string): string {
  return `qemu+unix:///system?socket=/run/bothworlds/libvirt-${name}/libvirt-sock`;
}

/** The URI to use: $BOTHWORLDS_LIBVIRT_URI, else bothworlds' instance "a" when it runs, else qemu:///system. */
export function defaultUri(): string {
  if (process.env.BOTHWORLDS_LIBVIRT_URI) return process.env.BOTHWORLDS_LIBVIRT_URI;
  return existsSync('/run/bothworlds/libvirt-a/libvirt-sock') ? instanceUri('a') : 'qemu:///system';
}

/** The migration target: $BOTHWORLDS_LIBVIRT_MIGRATION_URI, else bothworlds' instance "b" when it runs. */
export function defaultMigrationUri(): string | undefined {
  if (process.env.BOTHWORLDS_LIBVIRT_MIGRATION_URI) return process.env.BOTHWORLDS_LIBVIRT_MIGRATION_URI;
  return existsSync('/run/bothworlds/libvirt-b/libvirt-sock') ? instanceUri('b') : undefined;
}

/** `virsh -c URI ARGS`: structured output only (XML, JSON); errors carry libvirt's words. */
export async function virsh(uri: string, args: string[], options: { timeoutMs?: number; input?: string } = {}): Promise<string> {
  // The cell's transcript of what was asked of libvirt (agent commands have their own).
  const recorder = args[0] === 'qemu-agent-command' ? undefined : ambientTranscript();
  const host = /libvirt-([^/]+)\/libvirt-sock/.exec(uri)?.[1] ?? uri;
  recorder?.record('virsh', `virsh:${host}`, '>', args.join(' '));
  const result = await execa('virsh', ['-q', '-c', uri, ...args], {
    reject: false,
    timeout: options.timeoutMs ?? 60_000,
    ...(options.input !== undefined ? { input: options.input } : {}),
  });
  recorder?.record('virsh', `virsh:${host}`, result.exitCode === 0 ? '<' : '!', String(result.exitCode === 0 ? result.stdout : result.stderr || result.shortMessage).trim());
  if (result.exitCode !== 0) {
    const message = String(result.stderr || result.stdout || result.shortMessage).trim().replace(/^error: /gm, '').replace(/\n+/g, '; ');
    throw new InfrastructureError('LIBVIRT', `virsh ${args[0]} failed: ${message}`, { details: { uri, args } });
  }
  return String(result.stdout);
}

/** Why libvirt cannot be used through `uri`, or undefined. */
export async function libvirtUnavailableReason(uri: string): Promise<string | undefined> {
  const which = await execa('virsh', ['--version'], { reject: false });
  if (which.exitCode !== 0) return 'virsh is not installed (scripts/packages/libvirt.txt)';
  const result = await execa('virsh', ['-q', '-c', uri, 'version'], { reject: false, timeout: 30_000 });
  if (result.exitCode === 0) return undefined;
  return `libvirt at ${uri} does not answer (${String(result.stderr).trim().split('\n').at(-1)}); start it with scripts/services/libvirtd.sh`;
}
