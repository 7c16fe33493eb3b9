import type { RunRecord } from './run-record.js';

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
  const { cells, qualification, ...run } = record;
  // A policy's verdict is what a release gate reads first.
  const head = JSON.stringify({ ...(qualification ? { qualification } : {}), ...run, cells: [] }, null, 2);
  if (cells.length === 0) {
    yield `${head}\n`;
    return;
  }
  yield head.replace(/"cells": \[\]\n\}$/, '"cells": [\n');
  for (let i = 0; i < cells.length; i++) yield `    ${JSON.stringify(cells[i])}${i < cells.length - 1 ? ',' : ''}\n`;
  yield '  ]\n}\n';
}
