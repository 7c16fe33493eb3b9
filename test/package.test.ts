import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { projectRoot } from '../harness/core/project-root.js';

const root = projectRoot();
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string; scripts: Record<string, string> };

/**
 * What a user gets from `npm install bothworlds`: the tarball `npm pack` makes (of the dist/ that
 * setup built; prepack rebuilds it on a real `npm pack`), installed into a scratch project, used
 * through npx and through an import. Dependencies come from the npm cache when it has them.
 */
describe('the packed package, installed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-pack-'));
  const project = join(dir, 'scratch');
  let files: string[] = [];
  const inProject = (command: string, args: string[]) => execa(command, args, { cwd: project, reject: false, all: true, env: { CI: 'true', NO_COLOR: '1' } });

  beforeAll(async () => {
    const packed = await execa('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root });
    const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    files = info!.files.map((f) => f.path);
    await execa('mkdir', ['-p', project]);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
    const install = await execa('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(dir, info!.filename)], { cwd: project, reject: false, all: true });
    expect(install.exitCode, install.all).toBe(0);
  }, 300_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('ships dist, bin and what the guest image is built from; no test helpers, no sources of tests', () => {
    expect(pkg.scripts.prepack).toContain('tsc -p tsconfig.json');
    expect(files).toContain('bin/bothworlds.js');
    expect(files).toContain('dist/harness/cli/main.js');
    expect(files).toContain('dist/harness/index.d.ts');
    expect(files).toContain('matrices/schema.json');
    expect(files).toContain('guest/tools/bw-heartbeat.c');
    expect(files.filter((f) => /\.test\.|test-helper|\/testing\/|test-support/.test(f))).toEqual([]);
    expect(files.filter((f) => f.startsWith('harness/') && f.endsWith('.ts') && !f.startsWith('harness/images/debian/'))).toEqual([]);
  });

  it('npx bothworlds --version and list work from the installed package', async () => {
    const version = await inProject('npx', ['--no-install', 'bothworlds', '--version']);
    expect([version.exitCode, version.stdout], version.all).toEqual([0, pkg.version]);
    writeFileSync(join(project, 'm.yaml'), 'name: scratch\napp: {command: [sh, -c, "echo hi"]}\ndefaults: {backend: local}\naxes: {case: [a, b]}\n');
    const list = await inProject('npx', ['--no-install', 'bothworlds', 'list', 'm.yaml']);
    expect(list.exitCode, list.all).toBe(0);
    expect(list.stdout).toMatch(/^2 cells \(of 2 combinations\)\n {2}local-a-[0-9a-f]{6} {2}backend=local case=a/);
  });

  it('import { defineCell, runOneCell } from "bothworlds" runs a cell', async () => {
    const script =
      "import { defineCell, runOneCell } from 'bothworlds'; const r = await runOneCell(defineCell({ backend: 'local', app: { command: ['sh', '-c', 'echo hi'] } })); console.log(r.outcome);";
    const result = await inProject(process.execPath, ['--input-type=module', '-e', script]);
    expect([result.exitCode, result.stdout], result.all).toEqual([0, 'passed']);
  });
});
