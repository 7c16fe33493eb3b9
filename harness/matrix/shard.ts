import { createHash } from 'node:crypto';
import { ConfigError } from '../core/errors.js';
import type { Cell } from '../model/cell.js';

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

/** The shard a cell belongs to: a hash of its stable id, so every machine agrees. */
export function shardOf(cell: Pick<Cell, 'id'>, total: number): number {
  return (createHash('sha256').update(cell.id).digest().readUInt32BE(0) % total) + 1;
}

export function selectShard(cells: Cell[], shard: Shard): Cell[] {
  return cells.filter((cell) => shardOf(cell, shard.total) === shard.index);
}
