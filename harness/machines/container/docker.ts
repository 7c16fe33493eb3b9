import { execa } from 'execa';
import { UnsupportedError } from '../../core/errors.js';

/** Why no Docker engine can be used here, found in a few seconds at most; undefined when one answers. */
export async function dockerUnavailableReason(): Promise<string | undefined> {
  const result = await execa('docker', ['version', '--format', '{{.Server.Version}}'], { reject: false, timeout: 5_000 });
  if (result.exitCode === 0 && result.stdout.trim()) return undefined;
  if (result.timedOut) return 'the Docker engine did not answer within 5 s';
  const why = String(result.stderr || result.stdout || result.shortMessage || 'no answer').trim().split('\n').at(-1);
  return `no Docker engine is reachable (${why}); start one with scripts/services/dockerd.sh`;
}

export async function requireDocker(): Promise<void> {
  const reason = await dockerUnavailableReason();
  if (reason) throw new UnsupportedError('DOCKER_UNAVAILABLE', reason);
}

/** `docker <args>`, failing with the daemon's words. */
export async function docker(args: string[], options: { timeoutMs?: number } = {}): Promise<string> {
  const result = await execa('docker', args, { reject: false, timeout: options.timeoutMs ?? 30_000 });
  if (result.exitCode !== 0) throw new Error(`docker ${args[0]} failed: ${(result.stderr || result.stdout).trim()}`);
  return result.stdout;
}
