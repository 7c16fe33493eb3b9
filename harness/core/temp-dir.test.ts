import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { projectRoot } from './project-root.js';
import { assertSafeParent } from './private-dir.js';
import { ownerAlive, sweepStaleTempDirs } from './temp-dir.js';

const DIST_TEMP_DIR = join(projectRoot(), 'dist', 'harness', 'core', 'temp-dir.js');

/** A harness stand-in (the built module in another process): makes its root, prints it and the owner token, waits. */
function startHarness(base: string) {
  const script = `const m = await import(${JSON.stringify(DIST_TEMP_DIR)}); console.log(m.processTempRoot()); console.log(m.ownerToken()); setInterval(() => {}, 1000);`;
  const child = execa(process.execPath, ['--input-type=module', '-e', script], { env: { BOTHWORLDS_RUN_DIR: base }, reject: false });
  const lines = new Promise<string[]>((resolve) => {
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const got = text.split('\n').filter(Boolean);
      if (got.length >= 2) resolve(got);
    });
  });
  return { child, lines };
}

describe('private temp space', () => {
  let base: string;
  const saved = process.env.BOTHWORLDS_RUN_DIR;

  beforeEach(() => {
    base = mkdtempSync('/tmp/bw-tempdir-test-');
    chmodSync(base, 0o1777);
    process.env.BOTHWORLDS_RUN_DIR = base;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.BOTHWORLDS_RUN_DIR;
    else process.env.BOTHWORLDS_RUN_DIR = saved;
    rmSync(base, { recursive: true, force: true });
  });

  it('a root is mkdtemp-named, 0700, ours; the sweep keeps it while its harness lives and removes it after SIGKILL', async () => {
    const { child, lines } = startHarness(base);
    const [root, token] = await lines;
    expect(root).toMatch(/\/bothworlds-run-[A-Za-z0-9]{6}$/);
    const stats = lstatSync(root!);
    expect(stats.mode & 0o777).toBe(0o700);
    expect(stats.uid).toBe(process.getuid!());
    expect(await ownerAlive(token!)).toBe(true);
    expect(await sweepStaleTempDirs()).toEqual([]);
    child.kill('SIGKILL');
    await child;
    expect(existsSync(root!)).toBe(true); // SIGKILL: no exit hook ran
    expect(await ownerAlive(token!)).toBe(false);
    expect(await sweepStaleTempDirs()).toEqual([root]);
    expect(existsSync(root!)).toBe(false);
  });

  it('a root without its lock is kept while young (a harness starting), removed when old; links and foreign modes are never touched', async () => {
    const young = join(base, 'bothworlds-run-Young1');
    const old = join(base, 'bothworlds-run-Old123');
    const open = join(base, 'bothworlds-run-Open12');
    const link = join(base, 'bothworlds-run-Link12');
    const target = mkdtempSync('/tmp/bw-tempdir-target-');
    for (const dir of [young, old]) mkdirSync(dir, { mode: 0o700 });
    mkdirSync(open, { mode: 0o755 });
    chmodSync(open, 0o755);
    symlinkSync(target, link);
    const hourAgo = Date.now() / 1000 - 3600;
    for (const dir of [old, open, target]) utimesSync(dir, hourAgo, hourAgo);
    try {
      expect(await sweepStaleTempDirs()).toEqual([old]);
      expect(existsSync(young) && existsSync(open) && existsSync(link) && existsSync(target)).toBe(true);
    } finally {
      rmSync(target, { recursive: true, force: true });
    }
  });

  it('refuses a temp space others can write that is not sticky', () => {
    chmodSync(base, 0o777);
    expect(() => assertSafeParent(base)).toThrow(/not safe on a shared host.*not sticky/);
    chmodSync(base, 0o1777);
    expect(() => assertSafeParent(base)).not.toThrow();
  });
});
