import type { Cell } from '../model/cell.js';
import type { MatrixFile } from './load.js';
import { shardOf } from './shard.js';

/**
 * The shard list for a CI matrix job. github: JSON for `strategy.matrix` (`fromJSON`); gitlab: a
 * `parallel:matrix` snippet. Each shard runs `bothworlds run FILE --shard k/n`.
 */
export function formatShardList(file: MatrixFile, cells: Cell[], format: 'github' | 'gitlab', shards: number): string {
  const counts = new Array<number>(shards).fill(0);
  for (const cell of cells) counts[shardOf(cell, shards) - 1]!++;
  const list = counts.map((count, i) => ({ shard: `${i + 1}/${shards}`, cells: count })).filter((s) => s.cells > 0);
  if (format === 'github') return JSON.stringify({ include: list.map((s) => ({ ...s, matrix: file.name })) });
  return [`# ${file.name}: ${cells.length} cells in ${list.length} shards`, 'parallel:', '  matrix:', `    - SHARD: [${list.map((s) => JSON.stringify(s.shard)).join(', ')}]`, ''].join('\n');
}
