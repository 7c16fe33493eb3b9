import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { projectRoot } from '../core/project-root.js';
import { loadMatrix, parseMatrix } from './load.js';
import { MatrixError } from './errors.js';
import { expandMatrixLazily, expandMatrix } from './expand.js';
import { appEnv } from './app-env.js';
import { cellId } from './cell-id.js';
import { parseShard, selectShard } from './shard.js';
import { formatShardList } from './ci-formats.js';
import { formatExpansion } from './list.js';
import { parseDuration, parseSizeMiB } from './units.js';

const matrices = join(projectRoot(), 'matrices');
const parse = (text: string) => parseMatrix(text, '/tmp/m.yaml');
const APP = 'app: {command: [/bin/true]}\n';

function issuesOf(text: string): MatrixError['issues'] {
  try {
    parse(text);
  } catch (error) {
    expect(error).toBeInstanceOf(MatrixError);
    return (error as MatrixError).issues;
  }
  throw new Error('expected a MatrixError');
}

describe('matrix files', () => {
  it('loads the quickstart: 3 CPU models x 2 vCPU counts, the 2-vCPU cells adaptive', async () => {
    const file = await loadMatrix(join(matrices, 'quickstart.yaml'));
    const { cells } = expandMatrix(file);
    expect(cells).toHaveLength(6);
    expect(new Set(cells.map((c) => c.machine.cpuModel))).toEqual(new Set(['Nehalem', 'SandyBridge', 'max']));
    expect(cells.map((c) => `${c.machine.vcpus}/${appEnv(c).BW_AXIS_POOL}`).sort()).toEqual(['1/fixed', '1/fixed', '1/fixed', '2/adaptive', '2/adaptive', '2/adaptive']);
    expect(cells[0]!.machine).toMatchObject({ maxVcpus: 3, memoryMiB: 384 });
    expect(cells[0]!.suites.map((s) => s.name)).toEqual(['cpu-model', 'hotplug-awareness']);
  });

  it('names file, line and column for every problem of a broken file and starts nothing', async () => {
    const error = await loadMatrix(join(matrices, 'examples', 'broken.yaml')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MatrixError);
    const text = (error as Error).message;
    expect(text).toMatch(/broken\.yaml:12:1: unknown key "bogus"/);
    expect(text).toMatch(/broken\.yaml:6:14: vcpus must be a whole number of at least 1, not "two"/);
    expect(text).toMatch(/broken\.yaml:11:11: unknown event kind "cpu-plugin"/);
  });

  it('reports semantic errors with positions: unknown scenario, unknown event kind', () => {
    const issues = issuesOf(`name: t\n${APP}axes:\n  events: [none, cpu-plugg]\nscenarios:\n  x:\n    - {at: 1s, do: cpu-plugin}\n`);
    expect(issues.map((i) => `${i.line}:${i.column} ${i.message}`)).toEqual([
      expect.stringMatching(/^4:18 events value "cpu-plugg" names no scenario/),
      expect.stringMatching(/^7:20 unknown event kind "cpu-plugin" \(did you mean "cpu-plug"\?\); known kinds: cpu-plug/),
    ]);
  });

  it('keeps YAML syntax errors at their line and column', () => {
    const issues = issuesOf(`name: t\n${APP}axes: {cpu: [a, b}\n`);
    expect(issues[0]!.line).toBe(3);
    expect(issues[0]!.message).toMatch(/^YAML/);
  });

  it('rejects a bad duration, a missing trigger and a constraint that does not parse', () => {
    const issues = issuesOf(`name: t\n${APP}timeout: 5 minutes\nconstraints: ["vcpus >= "]\nscenarios:\n  s:\n    - {do: pause}\n`);
    const messages = issues.map((i) => i.message).join('\n');
    expect(messages).toMatch(/timeout has an invalid value/);
    expect(messages).toMatch(/exactly one trigger/);
    expect(messages).toMatch(/constraint does not parse/);
  });

  it('follows GitHub Actions include/exclude semantics', async () => {
    const file = await loadMatrix(join(matrices, 'examples', 'github-style.yaml'));
    const { cells, dropped } = expandMatrix(file);
    const shapes = cells.map((c) => `${c.axes.cpu}/${c.axes.vcpus ?? '-'}/${c.axes.memory ?? '-'}`).sort();
    // exclude drops Nehalem/2; include extends both SandyBridge cells with memory; {cpu: max} matches nothing → a new cell.
    expect(shapes).toEqual(['Nehalem/1/-', 'SandyBridge/1/1G', 'SandyBridge/2/1G', 'max/4/-']);
    expect(dropped).toEqual([{ axes: { cpu: 'Nehalem', vcpus: 2 }, rule: 'exclude[0]' }]);
  });

  it('makes the same cells lazily, again on each iteration (include, exclude, constraints, pairwise, duplicates)', async () => {
    const files = [
      await loadMatrix(join(matrices, 'examples', 'github-style.yaml')),
      parse(`name: t\n${APP}axes: {vcpus: [1, 2, 4], maxvcpus: [2, 4], memory: [512M, 1G]}\nconstraints: ["maxvcpus >= vcpus"]\nexclude: [{memory: 1G, vcpus: 1}]\n`),
      parse(`name: t\n${APP}axes: {vcpus: [1, 2], memory: [512M, 1G], cpu: [Nehalem, max]}\npairwise: true\n`),
      // An include that adds a cell equal to one the product made: one cell, as expandMatrix keeps it.
      parse(`name: t\n${APP}axes: {vcpus: [1, 2]}\ninclude: [{vcpus: 5}, {vcpus: 5}]\n`),
    ];
    for (const file of files) {
      const eager = expandMatrix(file);
      const lazy = expandMatrixLazily(file);
      expect(lazy.source.size).toBe(eager.cells.length);
      expect([...lazy.source]).toEqual(eager.cells);
      expect([...lazy.source].map((c) => c.id)).toEqual(eager.cells.map((c) => c.id));
      expect(lazy.dropped).toEqual(eager.dropped);
      expect(lazy.totalCombinations).toBe(eager.totalCombinations);
    }
  });

  it('drops combinations by constraint and says which', () => {
    const file = parse(`name: t\n${APP}axes: {vcpus: [1, 2, 4], maxvcpus: [2]}\nconstraints: ["maxvcpus >= vcpus"]\n`);
    const expansion = expandMatrix(file);
    expect(expansion.cells.map((c) => c.machine.vcpus)).toEqual([1, 2]);
    expect(expansion.dropped).toEqual([{ axes: { vcpus: 4, maxvcpus: 2 }, rule: 'constraint "maxvcpus >= vcpus"' }]);
    expect(formatExpansion(expansion)).toMatch(/vcpus=4 maxvcpus=2 {2}← constraint "maxvcpus >= vcpus"/);
  });

  it('shares what cells have in common: one machine per configuration, one app for all (user axes come from the axes)', () => {
    const file = parse(`name: t\n${APP}axes: {vcpus: [1, 2], events: [none, none2]}\nscenarios: {none2: []}\n`);
    const [a, b, c, d] = expandMatrix(file).cells;
    expect(a!.machine.vcpus).toBe(1);
    expect(b!.machine).toBe(a!.machine);
    expect(c!.machine).not.toBe(a!.machine);
    expect(d!.machine).toBe(c!.machine);
    expect(b!.app).toBe(a!.app);
    const withUserAxis = expandMatrix(parse(`name: t\napp: {command: [/bin/true], env: {K: v}}\naxes: {size: [1, 2]}\n`)).cells;
    expect(withUserAxis[1]!.app).toBe(withUserAxis[0]!.app);
    expect(withUserAxis[0]!.app.env).toEqual({ K: 'v' });
    expect(withUserAxis.map((cell) => appEnv(cell))).toEqual([
      { K: 'v', BW_AXIS_SIZE: '1' },
      { K: 'v', BW_AXIS_SIZE: '2' },
    ]);
    expect(file.doc.app.env).toBeUndefined();
  });

  it('covers every pair of values with fewer cells when pairwise', async () => {
    const file = await loadMatrix(join(matrices, 'examples', 'pairwise.yaml'));
    const full = expandMatrix(file, { pairwise: false });
    const reduced = expandMatrix(file);
    expect(reduced.cells.length).toBeLessThan(full.cells.length / 3);
    const axes = ['cpu', 'vcpus', 'memory', 'machine'];
    const pairs = (cells: typeof full.cells) => {
      const set = new Set<string>();
      for (const c of cells) for (const a of axes) for (const b of axes) if (a < b) set.add(`${a}=${c.axes[a]}|${b}=${c.axes[b]}`);
      return set;
    };
    expect(pairs(reduced.cells)).toEqual(pairs(full.cells));
    expect(reduced.cells.every((c) => !(c.axes.machine === 'microvm' && Number(c.axes.vcpus) > 2))).toBe(true);
  });

  it('gives stable ids independent of key order', () => {
    expect(cellId({ cpu: 'Nehalem', vcpus: 2 })).toBe(cellId({ vcpus: 2, cpu: 'Nehalem' }));
    expect(cellId({ cpu: 'Nehalem', vcpus: 2 })).not.toBe(cellId({ cpu: 'Nehalem', vcpus: 1 }));
    expect(cellId({ backend: 'qemu', cpu: 'Nehalem', vcpus: 2 })).toMatch(/^qemu-nehalem-vcpus2-[0-9a-f]{6}$/);
  });

  it('shards deterministically into a partition', () => {
    const file = parse(`name: t\n${APP}axes: {a: [1, 2, 3, 4, 5, 6, 7], b: [x, y, z]}\n`);
    const { cells } = expandMatrix(file);
    const shards = [1, 2, 3].map((index) => selectShard(cells, { index, total: 3 }));
    expect(shards.flat().map((c) => c.id).sort()).toEqual(cells.map((c) => c.id).sort());
    expect(selectShard(cells, parseShard('2/3')).map((c) => c.id)).toEqual(shards[1]!.map((c) => c.id));
    expect(() => parseShard('4/3')).toThrow(/k\/n/);
    const github = JSON.parse(formatShardList(file, cells, 'github', 3)) as { include: Array<{ shard: string; cells: number }> };
    expect(github.include.reduce((n, s) => n + s.cells, 0)).toBe(cells.length);
    expect(formatShardList(file, cells, 'gitlab', 3)).toMatch(/parallel:\n {4}matrix:\n {6}- SHARD:\n {10}- 1\/3/);
  });

  it('parses durations and sizes in one place', () => {
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseSizeMiB('1G')).toBe(1024);
    expect(parseSizeMiB('262144K')).toBe(256);
    expect(() => parseDuration('soon')).toThrow(/not a duration/);
  });

  it('turns scenarios into timelines with line triggers and repeats', () => {
    const file = parse(`name: t\n${APP}axes: {events: [m]}\nscenarios:\n  m:\n    - {on: "ready", do: migrate, with: {max-bandwidth: 10G}, repeat: {count: 2, every: 5s}}\n`);
    const [cell] = expandMatrix(file).cells;
    expect(cell!.events).toEqual([{ kind: 'migrate', trigger: { kind: 'line', pattern: 'ready', source: 'app' }, repeat: { count: 2, everyMs: 5000 }, params: { 'max-bandwidth': '10G' } }]);
  });

  it('expands a 10^6-combination space lazily and quickly', () => {
    const values = '[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]';
    const file = parse(`name: t\n${APP}axes: {a: ${values}, b: ${values}, c: ${values}, d: ${values}, e: ${values}, f: ${values}}\nconstraints: ["a + b + c + d + e + f == 1"]\n`);
    const started = performance.now();
    const expansion = expandMatrix(file, { collectDropped: false });
    const ms = performance.now() - started;
    expect(expansion.totalCombinations).toBe(1_000_000);
    expect(expansion.cells).toHaveLength(6);
    console.log(`expanded and filtered 10^6 combinations in ${ms.toFixed(0)} ms`);
  });
});
