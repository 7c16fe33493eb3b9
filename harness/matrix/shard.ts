import { createHash } from 'node:crypto';
import { ConfigError } from '../core/errors.js';
import type { Cell } from '../model/cell.js';
import { filterCells, type CellSource } from './cell-source.js';

export interface Shard {
  /** 1-based */
  index: number;
  total: number;
}

export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(match?.[1]);
  const total = Number(match?.[2]);
  if (!match || total < 1 || index < 1 || index > total) {
    throw new ConfigError('SHARD_INVALID', `--shard "${text}" must be k/n with 1 <= k <= n (e.g. 2/5)`);
  }
  return { index, total };
}

const hashOf = (id: string) => createHash('sha256').update(id).digest('hex');

/**
 * Each cell's shard (1-based): cells ordered by a hash of their stable id, then dealt round-robin.
 * Every machine that expands the same matrix agrees, and shard sizes differ by at most one (a hash
 * modulo n alone gave 1, 3 and 2 cells for 6 cells in 3 shards).
 */
export function assignShards(cells: ReadonlyArray<Pick<Cell, 'id'>>, total: number): Map<string, number> {
  const ordered = cells.map((c) => ({ id: c.id, hash: hashOf(c.id) })).sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : a.id < b.id ? -1 : 1));
  return new Map(ordered.map((c, rank) => [c.id, (rank % total) + 1]));
}

/** As selectShard, over a source: only the ids of this shard are held. */
export function selectShardFrom(source: CellSource, shard: Shard): CellSource {
  const shards = assignShards(Array.from(source, (c) => ({ id: c.id })), shard.total);
  const mine = new Set([...shards].filter(([, index]) => index === shard.index).map(([id]) => id));
  return filterCells(source, (cell) => mine.has(cell.id));
}

export function selectShard<T extends Pick<Cell, 'id'>>(cells: T[], shard: Shard): T[] {
  const shards = assignShards(cells, shard.total);
  return cells.filter((cell) => shards.get(cell.id) === shard.index);
}
