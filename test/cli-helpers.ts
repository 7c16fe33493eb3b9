import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { execa, type ResultPromise } from 'execa';
import { projectRoot } from '../harness/core/project-root.js';

export const CLI = join(projectRoot(), 'bin', 'bothworlds.js');

/** A private folder with a matrix file; a unique `run` axis keeps QEMU names apart across tests. */
export function workspace(matrix: (tag: string) => string): { dir: string; file: string; reports: string; tag: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'bw-cli-'));
  const tag = randomBytes(3).toString('hex');
  const file = join(dir, 'matrix.yaml');
  writeFileSync(file, matrix(tag));
  return { dir, file, reports: join(dir, 'reports'), tag, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function runCli(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): ResultPromise<{ reject: false; all: true }> {
  return execa(process.execPath, [CLI, ...args], { reject: false, all: true, cwd: options.cwd ?? projectRoot(), env: { CI: 'true', NO_COLOR: '1', ...options.env } });
}

/**
 * A private parent for the harness's temp roots (BOTHWORLDS_RUN_DIR), so a test can see exactly
 * which roots its runs leave behind: each run's root is a mkdtemp'd `bothworlds-run-XXXXXX` in it.
 */
export function privateRunDir(parent: string): { dir: string; roots(): string[] } {
  const dir = join(parent, 'run');
  mkdirSync(dir, { mode: 0o700 });
  return { dir, roots: () => readdirSync(dir).filter((name) => name.startsWith('bothworlds-run-')) };
}

export function onlyRunDir(reports: string): string {
  const [run] = readdirSync(reports);
  if (!run) throw new Error(`no run folder in ${reports}`);
  return join(reports, run);
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** QEMU processes whose command line mentions `tag`. */
export async function qemusWith(tag: string): Promise<number[]> {
  const result = await execa('pgrep', ['-f', `qemu-system.*${tag}`], { reject: false });
  return result.stdout.split('\n').filter(Boolean).map(Number);
}
