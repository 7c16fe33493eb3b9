import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../harness/report/run-record.js';
import { cellFile, cellFolder } from '../harness/report/html/escape.js';
import { onlyRunDir, qemusWith, readJson, runCli, workspace } from './cli-helpers.js';

/**
 * Issue 16 end to end through the CLI: `repeat: 5` on a migration cell gives its pass rate and
 * downtime percentiles in HTML, Markdown and JSON, with every run's QMP and agent transcripts in
 * the cell's folder, linked from its page; a cell that passes only sometimes is `flaky`, fails
 * the run unless quarantined, and an expired quarantine fails the run.
 */
describe('repeats, flaky cells, quarantine and evidence', () => {
  it('repeat: 5 on a QEMU migration cell: pass rate, downtime p50/p95/p99 in every report, transcripts per run', async () => {
    const ws = workspace(
      (tag) => `name: repeat-migrate
app:
  command: [demo-server]
  files: ["@tools/demo-server"]
  service: true
  ready: "demo-server ready"
  timeout: 60s
defaults: {cpu: max, memory: 384M, run: "${tag}"}
axes: {events: [migrate]}
scenarios:
  migrate: [{at: 500ms, do: migrate, with: {max-bandwidth: 1G}}]
suites: [{name: memory-integrity, options: {size: 16M}}]
repeat: 5
evidence: always
timeout: 120s
`,
    );
    try {
      const started = performance.now();
      const run = await runCli(['run', ws.file, '--reports', ws.reports, '--plain']);
      console.log(`repeat 5 migration cell: ${((performance.now() - started) / 1000).toFixed(1)} s`);
      expect(run.exitCode, run.all).toBe(0);
      const dir = onlyRunDir(ws.reports);
      const record = readJson<RunRecord>(join(dir, 'results.json'));
      const [cell] = record.cells;
      expect(cell!.outcome).toBe('passed');
      expect(cell!.repeats).toMatchObject({ passed: 5, total: 5, passRate: 1 });
      expect(cell!.repeats!.runs.map((r) => r.outcome)).toEqual(['passed', 'passed', 'passed', 'passed', 'passed']);
      const downtime = cell!.repeats!.metrics['migrate/downtime_qemu_ms']!;
      expect(downtime).toMatchObject({ unit: 'ms', n: 5 });
      expect(downtime.p50).toBeLessThanOrEqual(downtime.p95);
      expect(downtime.p95).toBeLessThanOrEqual(downtime.p99);
      expect(downtime.ci95[0]).toBeLessThanOrEqual(downtime.mean);
      expect(downtime.ci95[1]).toBeGreaterThanOrEqual(downtime.mean);
      expect(cell!.repeats!.metrics['memory-integrity/stall_migrate_ms']!.n).toBe(5);
      console.log(`downtime (QEMU) p50 ${downtime.p50} p95 ${downtime.p95} p99 ${downtime.p99} mean ${downtime.mean.toFixed(1)} CI [${downtime.ci95.map((v) => v.toFixed(1)).join(', ')}]`);

      const markdown = readFileSync(join(dir, 'summary.md'), 'utf8');
      expect(markdown).toMatch(/### Repeated cells/);
      expect(markdown).toMatch(/\| passed \| 5 of 5 \(100%\) \|/);
      expect(markdown).toMatch(/^\| \| \| \| migrate\/downtime\\_qemu\\_ms \| [\d.]+ ms \/ [\d.]+ ms \/ [\d.]+ ms \| [\d.]+ ms \[[\d.]+ ms, [\d.]+ ms\] \(n=5\) \|$/m);
      const index = readFileSync(join(dir, 'index.html'), 'utf8');
      expect(index).toMatch(/<h2>Repeated cells<\/h2>/);
      expect(index).toContain('migrate/downtime_qemu_ms');
      expect(index).toContain('5 of 5 (100%)');

      // Every run's transcripts, in the cell's folder, linked from its page.
      const page = readFileSync(join(dir, 'cells', cellFile(cell!.id)), 'utf8');
      expect(page).toMatch(/<h2>Runs<\/h2>/);
      for (let n = 1; n <= 5; n++) {
        const qmp = readFileSync(join(dir, 'cells', cellFolder(cell!.id), `evidence/run-${n}/qmp-transcript.log`), 'utf8');
        expect(qmp).toMatch(/^ +[\d.]+ qmp:\S+ > \{"execute":"migrate"/m);
        expect(qmp).toMatch(/^ +[\d.]+ qmp:\S+ < \{"timestamp": \{.*"event": "MIGRATION", "data": \{"status": "completed"\}/m);
        const agent = readFileSync(join(dir, 'cells', cellFolder(cell!.id), `evidence/run-${n}/agent-transcript.log`), 'utf8');
        expect(agent).toMatch(/qga:\S+ > \{"execute":"guest-exec"/);
        expect(agent).toMatch(/qga:\S+ < \{"return": \{"pid": \d+\}\}/);
      }
      const last = cell!.evidence!.find((e) => e.kind === 'qmp')!;
      expect(page).toContain(`href="../${last.path.split('/').map(encodeURIComponent).join('/')}"`);
      expect(await qemusWith(ws.tag)).toEqual([]);
    } finally {
      ws.cleanup();
    }
  });

  it('a cell that passes every other run is flaky (exit 1); quarantined it does not fail the run; expired it does', async () => {
    const matrix = (quarantine: string) => (tag: string) => `name: flaky
app:
  # Passes on odd runs, fails on even ones: a counter on this host.
  command: [sh, -c, 'f=/tmp/bw-flaky-${tag}; n=$(cat $f 2>/dev/null || echo 0); echo $((n + 1)) > $f; [ $((n % 2)) -eq 0 ]']
  timeout: 20s
defaults: {backend: local, run: "${tag}"}
axes: {case: [counter]}
repeat: 5
${quarantine}
`;
    const plain = workspace(matrix(''));
    try {
      const run = await runCli(['run', plain.file, '--reports', plain.reports, '--plain']);
      expect(run.exitCode, run.all).toBe(1);
      const dir = onlyRunDir(plain.reports);
      const [cell] = readJson<RunRecord>(join(dir, 'results.json')).cells;
      expect(cell!.outcome).toBe('flaky');
      expect(cell!.repeats).toMatchObject({ passed: 3, total: 5, passRate: 0.6 });
      expect(cell!.reason).toMatch(/^passed 3 of 5 runs \(60%\); run 2 failed: .*; run 4 failed: /);
      // The details shown are the first run that did not pass; its evidence folder is run 2's.
      expect(cell!.repeats!.detailsFrom).toBe(2);
      expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toMatch(/\| `[^`]+` \| flaky \| passed 3 of 5 runs \(60%\)/);
      expect(readFileSync(join(dir, 'index.html'), 'utf8')).toMatch(/class="t-flaky">flaky<\/td>/);
      expect(readFileSync(join(dir, 'junit.xml'), 'utf8')).toMatch(/<failure[^>]*type="flaky"/);
    } finally {
      plain.cleanup();
      rmSync(`/tmp/bw-flaky-${plain.tag}`, { force: true });
    }
    const today = new Date().toISOString().slice(0, 10);
    const quarantined = workspace(matrix(`quarantine: [{cells: "*counter*", reason: "issue 99: counter races", expires: "${today}"}]`));
    try {
      const run = await runCli(['run', quarantined.file, '--reports', quarantined.reports, '--plain']);
      expect(run.exitCode, run.all).toBe(0);
      const [cell] = readJson<RunRecord>(join(onlyRunDir(quarantined.reports), 'results.json')).cells;
      expect(cell!.outcome).toBe('flaky');
      expect(cell!.quarantine).toEqual({ cells: '*counter*', reason: 'issue 99: counter races', expires: today, expired: false });
      expect(readFileSync(join(onlyRunDir(quarantined.reports), 'index.html'), 'utf8')).toContain(`quarantined until ${today} (issue 99: counter races): does not fail the run`);
      // The same entry a day past its date fails the run, even though the cell is the same.
      writeFileSync(quarantined.file, readFileSync(quarantined.file, 'utf8').replace(today, '2020-01-01'));
      const expired = await runCli(['run', quarantined.file, '--reports', join(quarantined.dir, 'expired'), '--plain']);
      expect(expired.exitCode, expired.all).toBe(1);
      const [again] = readJson<RunRecord>(join(onlyRunDir(join(quarantined.dir, 'expired')), 'results.json')).cells;
      expect(again!.quarantine!.expired).toBe(true);
    } finally {
      quarantined.cleanup();
      rmSync(`/tmp/bw-flaky-${quarantined.tag}`, { force: true });
    }
  });
});
