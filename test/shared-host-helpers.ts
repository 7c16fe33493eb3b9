import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { CLI } from './cli-helpers.js';

/** The unprivileged local user who plays the attacker (uid 1000 exists on the project's hosts). */
export const OTHER_UID = 1000;

/**
 * The CLI under test. BW_SECURITY_CLI points these tests at another build (e.g. the code before
 * issue 13's fixes) to see each reproduction fail there.
 */
export const SECURITY_CLI = process.env.BW_SECURITY_CLI ?? CLI;

/** A shared temp space like /tmp (1777), used as the harness's BOTHWORLDS_RUN_DIR. */
export function sharedTmp(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync('/tmp/bw-shared-');
  chmodSync(dir, 0o1777);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A shell script run as the other user, in its own process group so the test can stop it all. */
export function asOtherUser(script: string, args: string[] = []): ResultPromise<{ reject: false; all: true; detached: true }> {
  return execa('setpriv', [`--reuid=${OTHER_UID}`, `--regid=${OTHER_UID}`, '--clear-groups', '--', 'sh', '-c', script, 'attacker', ...args], {
    reject: false,
    all: true,
    detached: true,
    env: { PATH: '/usr/bin:/bin' },
  });
}

export function stopGroup(child: { pid?: number | undefined }): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** A local-backend matrix (readable by root only) whose app runs `app.sh` from its payload dir after `delay` seconds. */
export function localMatrix(delay: number, extra = ''): { dir: string; file: string; reports: string; cleanup(): void } {
  const dir = mkdtempSync('/tmp/bw-sec-ws-');
  writeFileSync(join(dir, 'app.sh'), '#!/bin/sh\necho "genuine app ran"\n', { mode: 0o755 });
  const file = join(dir, 'matrix.yaml');
  writeFileSync(file, `name: shared-host\napp:\n  command: [sh, -c, 'sleep ${delay}; app.sh']\n  files: [./app.sh]\n  timeout: 60s\ndefaults: {backend: local}\n${extra}`);
  return { dir, file, reports: join(dir, 'reports'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The CLI with a clean environment and the given temp space. */
export function bothworlds(args: string[], runDir: string, options: { prefix?: string[] } = {}): ResultPromise<{ reject: false; all: true }> {
  const [file, ...rest] = [...(options.prefix ?? []), process.execPath, SECURITY_CLI, ...args];
  return execa(file!, rest, {
    reject: false,
    all: true,
    extendEnv: false,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', CI: 'true', NO_COLOR: '1', BOTHWORLDS_RUN_DIR: runDir, TESTCONTAINERS_RYUK_DISABLED: 'true' },
  });
}
