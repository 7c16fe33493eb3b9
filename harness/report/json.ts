import type { CellResult } from '../model/result.js';
import type { RunInfo, RunRecord } from './run-record.js';

/**
 * results.json: the RunRecord as valid JSON, run-level fields indented for a person, one cell per
 * line for grep and diff. Indenting every cell would double the size (logs and series are most
 * of it: 38 vs 18 MiB for 1,000 cells); `jq .` pretty-prints it whole when wanted.
 */
export function buildJson(record: RunRecord): string {
  return [...jsonChunks(record)].join('');
}

/** The same text in pieces (a cell each), for writing a large run without holding it whole. */
export function* jsonChunks(record: RunRecord): Generator<string> {
  const { cells, ...info } = record;
  yield jsonHead(info, cells.length);
  for (let i = 0; i < cells.length; i++) yield jsonCell(cells[i]!, i === cells.length - 1);
  if (cells.length > 0) yield JSON_TAIL;
}

/** Everything before the first cell (all of it for a run of no cells). */
export function jsonHead(info: RunInfo, cellCount: number): string {
  const { qualification, ...run } = info;
  // A policy's verdict is what a release gate reads first.
  const head = JSON.stringify({ ...(qualification ? { qualification } : {}), ...run, cells: [] }, null, 2);
  return cellCount === 0 ? `${head}\n` : head.replace(/"cells": \[\]\n\}$/, '"cells": [\n');
}

export function jsonCell(cell: CellResult, last: boolean): string {
  return `    ${JSON.stringify(cell)}${last ? '' : ','}\n`;
}

export const JSON_TAIL = '  ]\n}\n';
