import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../harness/core/project-root.js';
import { SPECS } from '../harness/cli/specs.js';
import type { RunRecord } from '../harness/report/run-record.js';
import { onlyRunDir, readJson, runCli, workspace } from './cli-helpers.js';

const pkg = readJson<{ version: string }>(join(projectRoot(), 'package.json'));

/** Conventions a CI engineer expects, through bin/bothworlds.js as a user runs it. */
describe('CLI conventions', () => {
  it.each(Object.keys(SPECS))('%s --help: usage, options and an example on stdout, exit 0, nothing run', async (name) => {
    const result = await runCli([name, '--help']);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^usage: bothworlds ${name}`));
    expect(result.stdout).toContain('options:');
    expect(result.stdout).toMatch(/examples?:\n {2}bothworlds /);
    expect(result.stderr).toBe('');
  });

  it('--version prints the package version; -h anywhere before -- wins over a wrong flag', async () => {
    const version = await runCli(['--version']);
    expect([version.exitCode, version.stdout]).toEqual([0, pkg.version]);
    const help = await runCli(['run', '--bogus', '-h']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('--rerun-failed DIR');
  });

  it('an unknown flag is exit 2 with the usage line', async () => {
    const result = await runCli(['list', 'x.yaml', '--jsn']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("Unknown option '--jsn'");
    expect(result.stderr).toContain('usage: bothworlds list [--pairwise] [--no-dropped] [--json] FILE');
  });

  describe('on this host (local backend)', () => {
    const ws = workspace(
      (tag) => `name: conventions
app: {command: [sh, -c, 'echo "case $BW_AXIS_CASE ${tag}"; test "$BW_AXIS_CASE" != fail'], timeout: 30s}
defaults: {backend: local}
axes:
  case: [ok, fail, other]
`,
    );
    afterAll(() => ws.cleanup());

    it('list --json: one JSON document naming every cell', async () => {
      const result = await runCli(['list', ws.file, '--json']);
      expect(result.exitCode, result.all).toBe(0);
      const listed = JSON.parse(result.stdout) as { matrix: string; cells: Array<{ id: string; axes: Record<string, unknown> }> };
      expect(listed.matrix).toBe('conventions');
      expect(listed.cells.map((c) => c.axes.case)).toEqual(['ok', 'fail', 'other']);
    });

    it('run --json: NDJSON on stdout (every line parses, the last names the reports), text on stderr; --rerun-failed runs only what failed', async () => {
      const first = await runCli(['run', ws.file, '--reports', ws.reports, '--json']);
      expect(first.exitCode, first.all).toBe(1);
      const events = first.stdout.split('\n').map((line) => JSON.parse(line) as Record<string, any>);
      expect(events.filter((e) => e.event === 'cell-finished')).toHaveLength(3);
      const last = events.at(-1)!;
      expect(last).toMatchObject({ event: 'reports', exitCode: 1 });
      expect(readFileSync(join(projectRoot(), last.files.junit), 'utf8')).toContain('<testsuites');
      expect(first.stderr).toContain('reports: ');

      const dir = onlyRunDir(ws.reports);
      const failed = readJson<RunRecord>(join(dir, 'results.json'))
        .cells.filter((c) => c.outcome === 'failed')
        .map((c) => c.id);
      expect(failed).toHaveLength(1);
      const rerun = await runCli(['run', ws.file, '--reports', join(ws.dir, 'rerun'), '--rerun-failed', dir, '--json']);
      expect(rerun.exitCode, rerun.all).toBe(1);
      const finished = rerun.stdout
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, any>)
        .filter((e) => e.event === 'cell-finished');
      expect(finished.map((e) => e.id)).toEqual(failed);
    });

    it('compare: a merged run compares with the run it came from; an unknown --format is exit 2', async () => {
      const dir = onlyRunDir(ws.reports);
      const merged = join(ws.dir, 'merged');
      const merge = await runCli(['merge', dir, '--out', merged]);
      expect(merge.exitCode, merge.all).toBe(1);
      const compare = await runCli(['compare', dir, merged]);
      expect(compare.exitCode, compare.all).toBe(0);
      expect(compare.stdout.split('\n')[0]).toBe('0 outcome change(s), 0 timing regression(s), 0 improvement(s) (timing changes under 5 ms are not counted)');
      const html = await runCli(['compare', dir, merged, '--format', 'html']);
      expect(html.exitCode).toBe(2);
      expect(html.stderr).toContain('--format must be one of text, markdown, json, not "html"');
    });

    it('run --only and --filter pick cells by id glob and by expression', async () => {
      const only = await runCli(['run', ws.file, '--reports', join(ws.dir, 'only'), '--only', 'local-ok-*', '--only', 'local-other-*', '--plain']);
      expect(only.exitCode, only.all).toBe(0);
      expect(
        readJson<RunRecord>(join(onlyRunDir(join(ws.dir, 'only')), 'results.json'))
          .cells.map((c) => c.axes.case)
          .sort(),
      ).toEqual(['ok', 'other']);
      const filtered = await runCli(['run', ws.file, '--reports', join(ws.dir, 'filter'), '--filter', 'case == "fail"', '--plain']);
      expect(filtered.exitCode, filtered.all).toBe(1);
      expect(readJson<RunRecord>(join(onlyRunDir(join(ws.dir, 'filter')), 'results.json')).cells.map((c) => c.axes.case)).toEqual(['fail']);
      const typo = await runCli(['run', ws.file, '--only', 'local-okk']);
      expect(typo.exitCode).toBe(2);
      expect(typo.stderr).toMatch(/--only "local-okk" matches none of the matrix's 3 cell\(s\)/);
    });

    it('on GitHub Actions a failed cell is an ::error annotation and summary.md links the HTML report', async () => {
      const reports = join(ws.dir, 'gha');
      const result = await runCli(['run', ws.file, '--reports', reports, '--plain', '--filter', 'case == "fail"'], {
        env: { GITHUB_ACTIONS: 'true', GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'acme/app', GITHUB_RUN_ID: '7' },
      });
      expect(result.exitCode, result.all).toBe(1);
      expect(result.stdout).toMatch(/^::error title=bothworlds failed%3A local-fail-[0-9a-f]+::local-fail-[0-9a-f]+: /m);
      const summary = readFileSync(join(onlyRunDir(reports), 'summary.md'), 'utf8');
      expect(summary).toContain("[HTML report](index.html) · [this run's artifacts](https://github.com/acme/app/actions/runs/7)");
    });
  });
});
