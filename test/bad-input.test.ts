import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { execa } from 'execa';
import { projectRoot } from '../harness/core/project-root.js';
import { loadMatrix } from '../harness/matrix/load.js';
import { expandMatrix } from '../harness/matrix/expand.js';
import { assignShards } from '../harness/matrix/shard.js';
import { CLI } from './cli-helpers.js';

const FIXTURES = join(projectRoot(), 'test', 'fixtures', 'bad-input');
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

// BOTHWORLDS_QEMU points at a stand-in that records any call, so "no QEMU started" is a fact, not a
// guess from timing. It is read when harness/machines/qemu/binary.ts loads: set before main is imported.
const dir = mkdtempSync(join(tmpdir(), 'bw-bad-input-'));
const qemuCalls = join(dir, 'qemu-calls');
const fakeQemu = join(dir, 'qemu-system-x86_64');
// `-cpu help` (asked at load to check model names) prints and exits without creating a machine: the
// stand-in answers it with the real QEMU's list and records every other call.
const cpuHelp = join(dir, 'cpu-help');
writeFileSync(cpuHelp, execFileSync('qemu-system-x86_64', ['-cpu', 'help']));
writeFileSync(fakeQemu, `#!/bin/sh\nif [ "$1" = -cpu ] && [ "$2" = help ]; then cat '${cpuHelp}'; exit 0; fi\necho "$@" >> '${qemuCalls}'\nexit 1\n`);
chmodSync(fakeQemu, 0o755);
process.env.BOTHWORLDS_QEMU = fakeQemu;

/**
 * Every input mistake of issue 11 part 3, as a user makes it: `bothworlds run` must exit 2 naming
 * file:line:column (or the flag) and start nothing. The cases run the CLI's main() in this process
 * (the TypeScript source, not dist/, which other work may be rebuilding); one test runs them all
 * through bin/bothworlds.js as a user would.
 */
describe('bad input stops before any VM', () => {
  let main: (argv: string[]) => Promise<number>;
  const durations: number[] = [];

  beforeAll(async () => {
    main = (await import('../harness/cli/main.js')).main;
  });
  afterAll(() => {
    delete process.env.BOTHWORLDS_QEMU;
    console.log(`bad-input main() runs: ${durations.length}, slowest ${Math.max(...durations).toFixed(0)} ms, median ${[...durations].sort((a, b) => a - b)[Math.floor(durations.length / 2)]!.toFixed(0)} ms`);
    rmSync(dir, { recursive: true, force: true });
  });

  const reports = join(dir, 'reports');
  const withReports = (args: string[]) => [...args, ...(args[0] === 'run' ? ['--reports', reports] : [])];
  const nothingStarted = () => {
    expect(existsSync(qemuCalls) ? readFileSync(qemuCalls, 'utf8') : '', 'QEMU was started').toBe('');
    expect(existsSync(reports), 'a run folder was written').toBe(false);
  };

  /** main() as bin/bothworlds.js calls it, with what it writes captured. */
  async function cli(args: string[]): Promise<{ exitCode: number; all: string }> {
    let all = '';
    const capture = (chunk: unknown) => {
      all += String(chunk);
      return true;
    };
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    const started = performance.now();
    let exitCode: number;
    try {
      exitCode = await main(withReports(args));
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
    durations.push(performance.now() - started);
    nothingStarted();
    return { exitCode, all };
  }

  // [fixture, line:column, what the message says]
  const cases: Array<[string, string, RegExp]> = [
    ['event-param-typo', '7:36', /event balloon: unknown parameter "targte" \(did you mean "target"\?\); it takes target, timeout/],
    ['event-count-negative', '8:44', /event cpu-plug: parameter count=-3 must be a whole number from 1 to 4096/],
    ['event-size-zero', '8:43', /event mem-plug: parameter size=0 must be a size of at least 1M/],
    ['event-repeat-bomb', '7:43', /scenarios\.s\[0\]\.repeat\.count is 100000000: it must be <= 1000/],
    ['event-repeat-bomb', '7:55', /repeat\.every must be more than 0/],
    ['suite-unknown', '4:10', /unknown suite "cpu-modle" \(did you mean "cpu-model"\?\); built-in suites: cpu-model, clocks/],
    ['suite-option-enum', '6:49', /suite hotplug-awareness: suites\[0\]\.options\.expect is "adaptve", not one of adaptive, fixed \(did you mean "adaptive"\?\)/],
    ['suite-option-unknown', '5:42', /suite migration-survival: unknown key "maxDowntimeMS" in suites\[0\]\.options \(did you mean "maxDowntimeMs"\?\)/],
    ['suite-path-missing', '4:10', /suite module "\.\/suites\/no-such-suite\.js" does not exist/],
    ['suite-user-options', '5:59', /suite strict-suite: suites\[0\]\.options\.threshold must be number/],
    ['axis-vcpu', '6:3', /unknown axis "vcpu" \(did you mean "vcpus"\?\); .*user_axes: \[vcpu\]/],
    ['axis-memroy', '5:3', /unknown axis "memroy" \(did you mean "memory"\?\)/],
    ['value-vcpus', '5:14', /vcpus 100000 is more than QEMU's limit of 4096 vCPUs for machine q35/],
    ['value-memory', '5:18', /memory 10T \(10485760 MiB\) is more than this host's memory \(\d+ MiB\)/],
    ['value-slots', '6:11', /slots must be a whole number from 1 to 256 \(QEMU's limit of DIMM slots\), not 100000/],
    ['value-retries', '4:10', /retries is 1000000000: it must be <= 10/],
    ['value-cpu-injection', '5:9', /cpu "Nehalem -drive file=\/etc\/passwd" is not a CPU model/],
    ['value-cpu-unknown', '5:9', /cpu "Nehalm" is not a CPU model .*qemu-system-x86_64 knows \(did you mean "Nehalem"\?\); `.* -cpu help` lists them/],
    ['app-file-missing', '5:11', /app file "\.\.\/build\/my-daemon" does not exist/],
    ['mem-plug-no-maxmem', '11:20', /mem-plug needs memory hot-plug: a maxmem above memory .*; 16 cell\(s\) with scenario "grow" lack it/],
    ['suite-event-impossible', '8:5', /suite hotplug-awareness schedules cpu-plug \(hotplug-awareness\): cpu-plug of 1 vCPU\(s\) needs maxvcpus at least vcpus \+ 1 .*; 1 cell\(s\) with this suite lack it/],
    ['alias-bomb', '5:9', /YAML: Excessive alias count/],
  ];

  it.each(cases)('%s: exit 2 at %s', async (fixture, position, message) => {
    const file = join(FIXTURES, `${fixture}.yaml`);
    const result = await cli(['run', file]);
    expect(result.exitCode, result.all).toBe(2);
    expect(result.all).toMatch(new RegExp(`${escape(file)}:${position}: ${message.source}`));
  });

  it('a matrix that expands to 0 cells: exit 2 naming the file and what dropped the combinations', async () => {
    const file = join(FIXTURES, 'empty-matrix.yaml');
    const result = await cli(['run', file]);
    expect(result.exitCode, result.all).toBe(2);
    expect(result.all).toContain(`[MATRIX_EMPTY] ${file}: the matrix expands to 0 cells (2 combination(s), dropped: 2 by constraint "vcpus > 4")`);
  });

  it.each([
    [['run', 'good.yaml', '--concurrency', 'abc'], '--concurrency must be a whole number from 1 to 256, not "abc"'],
    [['run', 'good.yaml', '--concurrency', '0'], '--concurrency must be a whole number from 1 to 256, not "0"'],
    [['run', 'good.yaml', '--shard', '0/3'], '--shard "0/3" must be k/n'],
    [['run', 'good.yaml', '--resume', '/nonexistent/run'], '--resume must be an existing folder, not "/nonexistent/run"'],
    [['run', 'good.yaml', '--json', '--plain'], '--json and --plain cannot be used together'],
    [['run', 'good.yaml', '--concurency', '2'], "Unknown option '--concurency'"],
    [['matrix', 'good.yaml', '--shards', 'x'], '--shards must be a whole number from 1 to 256, not "x"'],
    [['matrix', 'good.yaml', '--format', 'gitlba'], '--format must be one of github, gitlab (did you mean "gitlab"?), not "gitlba"'],
    [['boot', '--vcpus', 'two'], '--vcpus must be a whole number from 1 to 4096, not "two"'],
    [['boot', '--accel', 'kvn'], '--accel must be one of auto, kvm, tcg (did you mean "kvm"?), not "kvn"'],
    [['boot', '--cpu', 'Nehalem -drive file=/etc/passwd'], '--cpu must be a CPU model'],
    [['boot', '--cpu', 'SandyBrige,-avx'], '--cpu: "SandyBrige" is not a CPU model'],
    [['compare', 'a', 'b', '--alpha', '2'], '--alpha must be a number above 0 and below 1, not "2"'],
  ])('%j: exit 2 naming the flag', async (args, message) => {
    const result = await cli(args.map((a) => (a === 'good.yaml' ? join(FIXTURES, a) : a)));
    expect(result.exitCode, result.all).toBe(2);
    expect(result.all).toContain(message);
  });

  it('an empty shard is not a mistake: exit 0 with a note, no run folder', async () => {
    const file = join(FIXTURES, 'good.yaml');
    const { cells } = expandMatrix(await loadMatrix(file));
    const total = 16;
    const used = new Set(assignShards(cells, total).values());
    const empty = Array.from({ length: total }, (_, i) => i + 1).find((k) => !used.has(k))!;
    const result = await cli(['run', file, '--shard', `${empty}/${total}`]);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).toContain(`shard ${empty}/${total} holds none of the matrix's 4 cell(s): nothing to run`);
  });

  it('node bin/bothworlds.js run exits 2 on every fixture, starting no QEMU', async () => {
    const fixtures = [...new Set(cases.map(([fixture]) => fixture)), 'empty-matrix'];
    const started = performance.now();
    const results = await Promise.all(
      fixtures.map(async (fixture) => {
        const file = join(FIXTURES, `${fixture}.yaml`);
        const result = await execa(process.execPath, [CLI, ...withReports(['run', file])], { reject: false, all: true, env: { CI: 'true', NO_COLOR: '1', BOTHWORLDS_QEMU: fakeQemu } });
        return { fixture, exitCode: result.exitCode, named: result.all.includes(file) };
      }),
    );
    console.log(`${fixtures.length} fixtures through bin/bothworlds.js (all at once): ${((performance.now() - started) / 1000).toFixed(1)} s`);
    expect(results).toEqual(fixtures.map((fixture) => ({ fixture, exitCode: 2, named: true })));
    nothingStarted();
  });
});
