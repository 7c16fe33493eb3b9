import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HOST_CPU_LOCK, parseCpuState, restoreCommands, restoreScript, verifyScript } from './cpu-hotplug.js';
import { parsePerfProbe } from './pmu.js';
import { commandLine } from './shell.js';

describe('host CPU state', () => {
  it('parses the state script output, deduplicating cpusets', () => {
    const state = parseCpuState(['cpu 3 1', 'cpu 1 0', 'set /sys/fs/cgroup/cpuset/docker/cpuset.cpus 0-3', 'set /sys/fs/cgroup/cpuset/docker/cpuset.cpus 0-3', 'set /x/cpuset.cpus ', 'noise'].join('\n'));
    expect(state.hotpluggable).toEqual([{ cpu: 1, online: false }, { cpu: 3, online: true }]);
    expect(state.cpusets).toEqual([{ path: '/sys/fs/cgroup/cpuset/docker/cpuset.cpus', cpus: '0-3' }, { path: '/x/cpuset.cpus', cpus: '' }]);
  });

  it('restores only CPUs that were online, and cpusets parents first; verify lists what differs (run by a real sh on files)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bw-cpuset-'));
    try {
      mkdirSync(join(dir, 'parent', 'child'), { recursive: true });
      const parent = join(dir, 'parent', 'cpuset.cpus');
      const child = join(dir, 'parent', 'child', 'cpuset.cpus');
      const state = { hotpluggable: [{ cpu: 1, online: false }], cpusets: [{ path: child, cpus: '0-1' }, { path: parent, cpus: '0-3' }] };
      const script = restoreCommands(state); // restoreScript would also rmdir the real host lock
      expect(restoreScript(state).endsWith(`rmdir ${HOST_CPU_LOCK} 2>/dev/null; true`)).toBe(true);
      expect(script).not.toContain('cpu1/online'); // it was offline before: leave it so
      expect(script.indexOf(parent)).toBeLessThan(script.indexOf(child));
      writeFileSync(parent, '0\n');
      writeFileSync(child, '0\n');
      expect(execFileSync('sh', ['-c', verifyScript(state)], { encoding: 'utf8' })).toContain(`${child} is 0`);
      execFileSync('sh', ['-c', script]);
      expect(readFileSync(parent, 'utf8').trim()).toBe('0-3');
      expect(readFileSync(child, 'utf8').trim()).toBe('0-1');
      expect(execFileSync('sh', ['-c', verifyScript(state)], { encoding: 'utf8' })).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('perf probe output', () => {
  it('reads counters that work and errnos that do not', () => {
    expect(parsePerfProbe('{"cycles":{"ok":true,"count":123},"instructions":{"ok":false,"errno":"ENOENT"}}\n')).toEqual({ cycles: true, instructions: false, detail: 'cycles 123, instructions ENOENT' });
    expect(parsePerfProbe('garbage').detail).toMatch(/no JSON/);
  });
});

describe('shell quoting', () => {
  it('round-trips awkward arguments through a real sh', () => {
    const args = ['plain', "it's", 'a b', '$HOME', '`x`', '', 'semi;colon'];
    const out = execFileSync('sh', ['-c', `for a in ${commandLine(args)}; do printf '[%s]' "$a"; done`], { encoding: 'utf8' });
    expect(out).toBe(args.map((a) => `[${a}]`).join(''));
  });
});
