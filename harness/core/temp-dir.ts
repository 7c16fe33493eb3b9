import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT_PREFIX = 'bothworlds-';
let root: string | undefined;

/**
 * Every temp dir of this harness process lives under one folder named after its pid. Teardown
 * removes each dir; a harness killed with SIGKILL cannot, so the next bothworlds process sweeps the
 * folders of processes that no longer exist (sweepStaleTempDirs).
 */
export function processTempRoot(): string {
  if (!root) {
    root = join(process.env.BOTHWORLDS_RUN_DIR ?? tmpdir(), `${ROOT_PREFIX}${process.pid}`);
    mkdirSync(root, { recursive: true, mode: 0o700 });
    const mine = root;
    process.once('exit', () => rmSync(mine, { recursive: true, force: true }));
  }
  return root;
}

/** A private (0700) temp dir for this process; the caller registers its removal. */
export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(processTempRoot(), prefix));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Remove what dead harness processes left behind (their QEMUs died with them). Returns what was removed. */
export function sweepStaleTempDirs(): string[] {
  const base = process.env.BOTHWORLDS_RUN_DIR ?? tmpdir();
  const removed: string[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync(base);
  } catch {
    return removed;
  }
  for (const entry of entries) {
    const match = new RegExp(`^${ROOT_PREFIX}(\\d+)$`).exec(entry);
    if (!match || Number(match[1]) === process.pid || alive(Number(match[1]))) continue;
    rmSync(join(base, entry), { recursive: true, force: true });
    removed.push(join(base, entry));
  }
  return removed;
}
