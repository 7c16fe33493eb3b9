import { describe, expect, it } from 'vitest';
import { at, defineCell, runOneCell } from '../programmatic.js';
import { ConfigError } from '../core/errors.js';
import { checkCellInput } from './check-cell-input.js';

const problemsOf = async (cell: ReturnType<typeof defineCell>): Promise<string[]> => {
  const error = await checkCellInput(cell).then(() => undefined, (e: unknown) => e);
  if (error === undefined) return [];
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).code).toBe('CELL_INPUT');
  return (error as ConfigError).details.problems as string[];
};

describe('a cell built in code is checked as a matrix file is', () => {
  it('accepts a cell a matrix could hold', async () => {
    const cell = defineCell({ machine: { cpu: 'Nehalem', vcpus: 1, maxvcpus: 2, memory: '384M', maxmem: '1G' }, app: { command: ['true'] }, events: [at(1_000, 'cpu-plug'), at(2_000, 'mem-plug', { size: '256M' })] });
    expect(await problemsOf(cell)).toEqual([]);
  });

  it('accepts a systemd unit (app.unit) as the application without a command; refuses an app with neither', async () => {
    expect(await problemsOf(defineCell({ app: { command: [], unit: 'redis-server.service' } }))).toEqual([]);
    expect(await problemsOf(defineCell({ app: { command: [] } }))).toEqual(['app.command is empty: give the program and its arguments (or app.unit)']);
  });

  it('lists every problem, each naming its field', async () => {
    const cell = defineCell({
      machine: { cpu: 'Nehalm', vcpus: 2, maxvcpus: 2 },
      app: { command: ['true'] },
      suites: ['hotplug-awarenes'],
      timeout: '10s',
      events: [at(1_000, 'ballon', { target: '50%' }), at(1_000, 'balloon', { targte: '50%' }), at(2_000, 'cpu-plug'), at(20_000, 'pause')],
    });
    const problems = await problemsOf(cell);
    expect(problems).toEqual([
      expect.stringMatching(/^machine\.cpu "Nehalm" is not a CPU model .*qemu-system-x86_64 knows \(did you mean "Nehalem"\?\)$/),
      expect.stringMatching(/^events\[0\]: unknown event kind "ballon" \(did you mean "balloon"\?\)/),
      expect.stringMatching(/^events\[1\]: event balloon: unknown parameter "targte" \(did you mean "target"\?\)/),
      expect.stringMatching(/^events\[2\]: cpu-plug of 1 vCPU\(s\) needs maxvcpus at least vcpus \+ 1 .*; the machine has vcpus 2, maxvcpus 2$/),
      'events[3]: pause fires at 20000 ms, at or after the cell\'s timeout of 10000 ms: it could never run',
      expect.stringMatching(/^suite "hotplug-awarenes" is neither a built-in suite \(did you mean "hotplug-awareness"\?\)/),
    ]);
  });

  it('stops runOneCell before any machine starts', async () => {
    const started = performance.now();
    const error = await runOneCell(defineCell({ machine: { cpu: 'SandyBrige' }, app: { command: ['true'] } })).catch((e: unknown) => e);
    expect((error as ConfigError).code).toBe('CELL_INPUT');
    expect((error as Error).message).toMatch(/^cell .*: machine\.cpu "SandyBrige" is not a CPU model/);
    // A boot under TCG takes seconds; the check answers from QEMU's cached model list.
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
