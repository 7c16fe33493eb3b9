import type { CellSummary } from './cell-summary.js';
import { neutralise } from './neutralise.js';

/** At most this many: GitHub shows 10 error annotations per step and drops the rest. */
const MAX_ANNOTATIONS = 10;

/** GitHub's escaping of a workflow command's message: nothing in it can end the line or the command. */
function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/**
 * `::error` workflow commands for the cells that failed, errored or were incomplete, so a red run
 * says which cells on its summary page. The reason can carry application output: escape sequences
 * and controls are neutralised first, then GitHub's own escaping keeps it inside one command.
 */
export function githubAnnotations(record: { cells: readonly CellSummary[] }, options: { htmlReport?: string } = {}): string {
  const bad = record.cells.filter((c) => c.outcome === 'failed' || c.outcome === 'error' || c.outcome === 'incomplete');
  const lines = bad.slice(0, MAX_ANNOTATIONS).map((cell) => {
    const title = escapeProperty(`bothworlds ${cell.outcome}: ${neutralise(cell.id)}`);
    return `::error title=${title}::${escapeData(neutralise(describe(cell)))}`;
  });
  if (bad.length > MAX_ANNOTATIONS) {
    lines.push(`::error title=bothworlds::${escapeData(`${bad.length - MAX_ANNOTATIONS} more cell(s) did not pass${options.htmlReport ? `: see ${options.htmlReport}` : ''}`)}`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

function describe(cell: CellSummary): string {
  const why = cell.reason ?? cell.error?.message ?? cell.outcome;
  return `${cell.id}: ${why}${cell.error ? ` [${cell.error.code}]` : ''}`;
}
