import { stringify } from 'yaml';
import { ConfigError } from '../core/errors.js';
import type { Cell } from '../model/cell.js';
import type { MatrixFile } from './load.js';
import { assignShards } from './shard.js';

export interface ShardListOptions {
  /** The matrix path as the CI job should pass it (default: the loaded file's path). */
  matrixPath?: string;
  /** How a GitLab job invokes bothworlds (default `npx bothworlds`). */
  command?: string;
}

/**
 * The shard list for a CI job; each shard runs `bothworlds run FILE --shard k/n`. Never more
 * shards than cells, so no job is empty. github: JSON for `strategy.matrix` (`fromJSON`); gitlab: a
 * whole child-pipeline file (`trigger: include: artifact:`) with one parallel job per shard.
 */
export function formatShardList(file: MatrixFile, cells: Cell[], format: 'github' | 'gitlab', shards: number, options: ShardListOptions = {}): string {
  // Actions rejects `{"include":[]}` with an unhelpful message: say why there is nothing instead.
  if (cells.length === 0) throw new ConfigError('MATRIX_EMPTY', `${file.path}: no cell to shard`);
  const total = Math.min(shards, cells.length);
  const counts = new Array<number>(total).fill(0);
  for (const shard of assignShards(cells, total).values()) counts[shard - 1]!++;
  const list = counts.map((count, i) => ({ shard: `${i + 1}/${total}`, cells: count }));
  if (format === 'github') return JSON.stringify({ include: list.map((s) => ({ ...s, matrix: file.name })) });
  const path = options.matrixPath ?? file.path;
  const command = options.command ?? 'npx bothworlds';
  const pipeline = {
    stages: ['test'],
    bothworlds: {
      stage: 'test',
      parallel: { matrix: [{ SHARD: list.map((s) => s.shard) }] },
      script: [`${command} run ${quote(path)} --shard "$SHARD" --plain`],
      artifacts: { when: 'always', paths: ['reports/'], reports: { junit: 'reports/*/junit.xml' } },
    },
  };
  return `# ${file.name}: ${cells.length} cells in ${total} shards (bothworlds matrix --format gitlab): a child pipeline\n${stringify(pipeline, { lineWidth: 0 })}`;
}

function quote(text: string): string {
  return /^[\w./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
