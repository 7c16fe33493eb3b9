import { ConfigError } from '../core/errors.js';
import type { RunRecord } from './run-record.js';

/** Shards of one matrix → one record. Records of different matrix contents are refused. */
export function mergeRuns(records: RunRecord[]): RunRecord {
  const [first] = records;
  if (!first) throw new ConfigError('MERGE_EMPTY', 'nothing to merge');
  const hashes = new Set(records.map((r) => r.matrix.hash));
  if (hashes.size > 1) throw new ConfigError('MERGE_MISMATCH', `these runs come from different matrix files (${[...hashes].map((h) => h.slice(0, 12)).join(', ')}); merge shards of one matrix only`);
  const cells = new Map(records.flatMap((r) => r.cells).map((c) => [c.id, c]));
  const finished = records.map((r) => r.finishedAt).filter((f): f is string => Boolean(f)).sort();
  const { shard: _shard, ...header } = first;
  return {
    ...header,
    runId: records.map((r) => r.runId).join('+'),
    startedAt: records.map((r) => r.startedAt).sort()[0]!,
    ...(finished.length === records.length ? { finishedAt: finished.at(-1)! } : {}),
    cellIds: [...new Set(records.flatMap((r) => r.cellIds))],
    interrupted: records.some((r) => r.interrupted),
    cells: [...cells.values()],
  };
}
