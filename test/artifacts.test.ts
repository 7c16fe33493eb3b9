import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RunRecord } from '../harness/report/run-record.js';
import { onlyRunDir, readJson, runCli, workspace } from './cli-helpers.js';

/** `artifacts:` brings files off the machine into the cell's folder, linked from its page and from JUnit. */
describe('artifacts', () => {
  it('a failing QEMU cell keeps its log and the tail of a big file; a passing one keeps nothing by default', async () => {
    const ws = workspace(
      (tag) => `name: artifacts
app:
  command: [sh, -c, 'mkdir -p /tmp/out; echo "line from the app <b>" > /tmp/out/app.log; head -c 300000 /dev/urandom > /tmp/out/big.bin; ln -s /etc/passwd /tmp/out/link.log; test "$BW_AXIS_CASE" = ok']
  timeout: 30s
defaults: {cpu: Nehalem, memory: 384M, run: "${tag}"}
axes: {case: [ok, fail]}
artifacts: {paths: [/tmp/out/*.log, /tmp/out/big.bin, /nothing/here*], max_file_size: 64K}
`,
    );
    try {
      const run = await runCli(['run', ws.file, '--reports', ws.reports, '--plain']);
      expect(run.exitCode, run.all).toBe(1);
      const dir = onlyRunDir(ws.reports);
      const record = readJson<RunRecord>(join(dir, 'results.json'));
      const passed = record.cells.find((c) => c.axes.case === 'ok')!;
      const failed = record.cells.find((c) => c.axes.case === 'fail')!;
      expect(passed.outcome).toBe('passed');
      expect(passed.artifacts).toBeUndefined();
      expect(failed.outcome).toBe('failed');
      const bySource = Object.fromEntries((failed.artifacts ?? []).map((a) => [a.source, a]));
      // The symlink is not followed (nor fetched); the glob that matched nothing says so.
      expect(Object.keys(bySource).sort()).toEqual(['/nothing/here*', '/tmp/out/app.log', '/tmp/out/big.bin']);
      expect(bySource['/nothing/here*']!.error).toBe('no file matched');
      const log = bySource['/tmp/out/app.log']!;
      expect(readFileSync(join(dir, log.path!), 'utf8')).toBe('line from the app <b>\n');
      const big = bySource['/tmp/out/big.bin']!;
      expect(big).toMatchObject({ bytes: 65536, truncated: true, originalBytes: 300000 });
      expect(statSync(join(dir, big.path!)).size).toBe(65536);
      // Linked from the cell page (escaped) and attached in JUnit for Jenkins.
      const page = readFileSync(join(dir, 'cells', `${failed.id}.html`), 'utf8');
      expect(page).toContain(`<a href="../${log.path}">/tmp/out/app.log</a>`);
      expect(page).toContain('the last part of 293.0 KiB');
      const junit = readFileSync(join(dir, 'junit.xml'), 'utf8');
      expect(junit).toContain(`[[ATTACHMENT|${join(dir, log.path!)}]]`);
    } finally {
      ws.cleanup();
    }
  });

  it('when: always keeps them for passing cells too, on this host (local backend)', async () => {
    const ws = workspace(
      (tag) => `name: artifacts-local
app: {command: [sh, -c, 'echo "kept ${tag}" > /tmp/bw-artifact-${tag}.txt'], timeout: 30s}
defaults: {backend: local}
artifacts: {paths: ["/tmp/bw-artifact-${tag}.txt"], when: always}
`,
    );
    try {
      const run = await runCli(['run', ws.file, '--reports', ws.reports, '--plain']);
      expect(run.exitCode, run.all).toBe(0);
      const dir = onlyRunDir(ws.reports);
      const [cell] = readJson<RunRecord>(join(dir, 'results.json')).cells;
      expect(cell!.outcome).toBe('passed');
      const [artifact] = cell!.artifacts ?? [];
      expect(artifact?.error).toBeUndefined();
      expect(existsSync(join(dir, artifact!.path!))).toBe(true);
      expect(readFileSync(join(dir, artifact!.path!), 'utf8')).toBe(`kept ${ws.tag}\n`);
    } finally {
      ws.cleanup();
      rmSync(`/tmp/bw-artifact-${ws.tag}.txt`, { force: true });
    }
  });
});
