import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import type { RunRecord } from './run-record.js';
import { RESULTS_FILE } from './results-store.js';

/**
 * Shards of one matrix → one record. Records of different matrix contents (hash), different
 * schemas or different shard counts are refused. When a cell appears in several records (a shard
 * rerun), the result of the run that started last wins.
 */
export function mergeRuns(records: RunRecord[], options: { allowPartial?: boolean } = {}): RunRecord {
  if (records.length === 0) throw new ConfigError('MERGE_EMPTY', 'nothing to merge');
  const distinct = (values: Array<string | number | undefined>) => [...new Set(values)];
  const schemas = distinct(records.map((r) => r.schema));
  if (schemas.length > 1) throw new ConfigError('MERGE_MISMATCH', `these runs were written by different bothworlds versions (${schemas.join(', ')})`);
  const hashes = distinct(records.map((r) => r.matrix.hash));
  if (hashes.length > 1) throw new ConfigError('MERGE_MISMATCH', `these runs come from different matrix files (${hashes.map((h) => String(h).slice(0, 12)).join(', ')}); merge shards of one matrix only`);
  const totals = distinct(records.map((r) => r.shard?.total));
  if (totals.length > 1) throw new ConfigError('MERGE_MISMATCH', `these runs split the matrix differently (shard totals ${totals.map((t) => t ?? 'none').join(', ')})`);
  const gaps = missingParts(records);
  if (gaps.length > 0 && !options.allowPartial) {
    throw new ConfigError('MERGE_PARTIAL', `these runs are not the whole matrix: ${gaps.join('; ')}. A merged report would count only what is there as "planned"; add the missing shards, or pass --allow-partial to merge what there is`, { details: { gaps } });
  }
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

/**
 * What keeps a set of runs from being the whole matrix: missing shards, and parts (a shard, or the
 * whole run) of which no run finished — it crashed or was killed (no trailer) or was interrupted.
 * A rerun of a part that finished makes up for an earlier one that did not.
 */
export function missingParts(records: RunRecord[]): string[] {
  const gaps: string[] = [];
  const total = records.find((r) => r.shard)?.shard?.total;
  if (total !== undefined && records.some((r) => !r.shard)) gaps.push('a full run is mixed with shards');
  if (total !== undefined) {
    const have = new Set(records.flatMap((r) => (r.shard ? [r.shard.index] : [])));
    const missing = Array.from({ length: total }, (_, i) => i + 1).filter((i) => !have.has(i));
    if (missing.length > 0) gaps.push(`shard${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${total} missing`);
  }
  const parts = new Map<string, RunRecord[]>();
  for (const r of records) {
    const key = r.shard ? `shard ${r.shard.index}` : 'full';
    parts.set(key, [...(parts.get(key) ?? []), r]);
  }
  for (const runs of parts.values()) {
    if (runs.some((r) => r.finishedAt && !r.interrupted)) continue;
    for (const r of runs) gaps.push(r.finishedAt ? `run ${r.runId} was interrupted` : `run ${r.runId} did not finish (it crashed or was killed)`);
  }
  return gaps;
}

/** The merged record as a results.jsonl, so `report`, `compare` and `merge` read the merge like any run. */
export async function writeMergedResults(record: RunRecord, dir: string): Promise<string> {
  const { cells, finishedAt, interrupted, ...header } = record;
  const lines = [{ type: 'header', header }, ...cells.map((cell) => ({ type: 'cell', cell })), ...(finishedAt ? [{ type: 'finish', finishedAt, interrupted }] : [])];
  const path = join(dir, RESULTS_FILE);
  try {
    await writeFile(path, lines.map((line) => `${JSON.stringify(line)}\n`).join(''), { flag: 'wx' });
  } catch (cause) {
    throw new ConfigError('RESULTS_EXIST', `${path} already exists: merge into an empty folder`, { cause });
  }
  return path;
}
