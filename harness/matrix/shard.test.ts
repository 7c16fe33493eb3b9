import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseMatrix } from './load.js';
import { expandMatrix } from './expand.js';
import { assignShards, selectShard } from './shard.js';
import { formatShardList } from './ci-formats.js';
import { selectCells } from './select.js';

const parse = (text: string) => parseMatrix(text, '/tmp/m.yaml');
const APP = 'app: {command: [/bin/true]}\n';
const cellsOf = (values: number) => expandMatrix(parse(`name: t\n${APP}axes: {a: [${Array.from({ length: values }, (_, i) => i + 1).join(', ')}]}\n`)).cells;

describe('shards', () => {
  it.each([
    [6, 3],
    [4, 4],
    [7, 3],
    [100, 7],
  ])('%i cells in %i shards: a partition whose sizes differ by at most one', (n, total) => {
    const cells = cellsOf(n);
    const shards = Array.from({ length: total }, (_, i) => selectShard(cells, { index: i + 1, total }));
    const sizes = shards.map((s) => s.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    expect(
      shards
        .flat()
        .map((c) => c.id)
        .sort(),
    ).toEqual(cells.map((c) => c.id).sort());
  });

  it('is deterministic: the same assignment whatever order the cells come in', () => {
    const cells = cellsOf(9);
    expect([...assignShards([...cells].reverse(), 4)].sort()).toEqual([...assignShards(cells, 4)].sort());
  });

  it('github: never an empty job, never {"include":[]}', () => {
    const file = parse(`name: t\n${APP}axes: {a: [1, 2]}\n`);
    const { cells } = expandMatrix(file);
    const github = JSON.parse(formatShardList(file, cells, 'github', 4)) as { include: Array<{ shard: string; cells: number }> };
    expect(github.include).toEqual([
      { shard: '1/2', cells: 1, matrix: 't' },
      { shard: '2/2', cells: 1, matrix: 't' },
    ]);
    expect(() => formatShardList(file, [], 'github', 4)).toThrow(/no cell to shard/);
  });

  it('gitlab: a child-pipeline file with one parallel job per shard and JUnit reports', () => {
    const file = parse(`name: t\n${APP}axes: {a: [1, 2, 3, 4, 5]}\n`);
    const { cells } = expandMatrix(file);
    const pipeline = parseYaml(formatShardList(file, cells, 'gitlab', 3, { matrixPath: 'matrices/my file.yaml' })) as Record<string, any>;
    expect(pipeline.stages).toEqual(['test']);
    expect(pipeline.bothworlds.parallel.matrix).toEqual([{ SHARD: ['1/3', '2/3', '3/3'] }]);
    expect(pipeline.bothworlds.script).toEqual([`npx bothworlds run 'matrices/my file.yaml' --shard "$SHARD" --plain`]);
    expect(pipeline.bothworlds.artifacts.reports.junit).toBe('reports/*/junit.xml');
  });
});

describe('picking cells', () => {
  const file = parse(`name: t\n${APP}axes: {cpu: [Nehalem, max], vcpus: [1, 2]}\n`);
  const { cells } = expandMatrix(file);

  it('--only takes an exact id or a glob, repeatable', () => {
    const [first] = cells;
    expect(selectCells(cells, { only: [first!.id] }).map((c) => c.id)).toEqual([first!.id]);
    expect(selectCells(cells, { only: ['nehalem-*'] }).map((c) => c.axes.cpu)).toEqual(['Nehalem', 'Nehalem']);
    expect(selectCells(cells, { only: ['nehalem-vcpus1-*', 'max-vcpus2-*'] })).toHaveLength(2);
  });

  it('--only that matches nothing is a config error naming the pattern', () => {
    expect(() => selectCells(cells, { only: ['nehalm-*'] })).toThrow(/--only "nehalm-\*" matches none of the matrix's 4 cell\(s\)/);
  });

  it('--filter speaks the constraint language over the axes', () => {
    expect(selectCells(cells, { filter: 'vcpus >= 2 and cpu != "max"' }).map((c) => [c.axes.cpu, c.axes.vcpus])).toEqual([['Nehalem', 2]]);
    expect(() => selectCells(cells, { filter: 'vcpus >=' })).toThrow(/--filter "vcpus >=" does not parse/);
  });
});
