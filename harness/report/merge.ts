import { ConfigError } from '../core/errors.js';
import type { RunRecord } from './run-record.js';

/**
 * Shards of one matrix → one record. Records of different matrix contents (hash), different
 * schemas or different shard counts are refused. When a cell appears in several records (a shard
 * rerun), the result of the run that started last wins.
 */
export function mergeRuns(records: RunRecord[]): RunRecord {
  if (records.length === 0) throw new ConfigError('MERGE_EMPTY', 'nothing to merge');
  const distinct = (values: Array<string | number | undefined>) => [...new Set(values)];
  const schemas = distinct(records.map((r) => r.schema));
  if (schemas.length > 1) throw new ConfigError('MERGE_MISMATCH', `these runs were written by different bothworlds versions (${schemas.join(', ')})`);
  const hashes = distinct(records.map((r) => r.matrix.hash));
  if (hashes.length > 1) throw new ConfigError('MERGE_MISMATCH', `these runs come from different matrix files (${hashes.map((h) => String(h).slice(0, 12)).join(', ')}); merge shards of one matrix only`);
  const totals = distinct(records.map((r) => r.shard?.total));
  if (totals.length > 1) throw new ConfigError('MERGE_MISMATCH', `these runs split the matrix differently (shard totals ${totals.map((t) => t ?? 'none').join(', ')})`);
  const ordered = [...records].sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  const cells = new Map(ordered.flatMap((r) => r.cells).map((c) => [c.id, c]));
  const finished = records.map((r) => r.finishedAt);
  const { shard: _shard, finishedAt: _finishedAt, ...header } = ordered[0]!;
  return {
    ...header,
    runId: records.map((r) => r.runId).join('+'),
    startedAt: ordered[0]!.startedAt,
    ...(finished.every((f): f is string => Boolean(f)) ? { finishedAt: [...finished].sort().at(-1)! } : {}),
    cellIds: [...new Set(records.flatMap((r) => r.cellIds))],
    interrupted: records.some((r) => r.interrupted),
    cells: [...cells.values()],
  };
}
