import { compileExpression } from 'filtrex';
import { ConfigError } from '../core/errors.js';
import type { Cell } from '../model/cell.js';
import { didYouMean } from './did-you-mean.js';

export interface CellSelection {
  /** Cell ids or globs (`*` any run of characters, `?` one); a cell matching any is kept. */
  only?: string[];
  /** An expression in the constraint language over the cell's axes, e.g. `vcpus >= 2 and cpu != "max"`. */
  filter?: string;
  /** Exactly these ids (e.g. the failed cells of an earlier run). */
  ids?: ReadonlySet<string>;
}

export function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/**
 * The cells a person picked. Every --only pattern must match some cell and the filter must parse
 * and evaluate: a typo is exit 2 naming it, never a silent run of nothing.
 */
export function selectCells(cells: Cell[], selection: CellSelection): Cell[] {
  let kept = cells;
  if (selection.only && selection.only.length > 0) {
    const patterns = selection.only.map((text) => ({ text, regexp: globToRegExp(text) }));
    for (const p of patterns) {
      if (!cells.some((c) => p.regexp.test(c.id))) {
        throw new ConfigError(
          'CLI_OPTION',
          `--only "${p.text}" matches none of the matrix's ${cells.length} cell(s)${didYouMean(
            p.text,
            cells.map((c) => c.id),
          )}; \`bothworlds list FILE\` shows their ids`,
          { details: { flag: 'only', value: p.text } },
        );
      }
    }
    kept = kept.filter((c) => patterns.some((p) => p.regexp.test(c.id)));
  }
  if (selection.filter !== undefined) {
    let test: (data: object) => unknown;
    try {
      test = compileExpression(selection.filter);
    } catch (error) {
      throw new ConfigError('CLI_OPTION', `--filter "${selection.filter}" does not parse: ${(error as Error).message.split('\n').at(-1)}`, { details: { flag: 'filter', value: selection.filter } });
    }
    kept = kept.filter((cell) => {
      const verdict = test({ backend: cell.backend, ...cell.axes });
      if (verdict instanceof Error)
        throw new ConfigError('CLI_OPTION', `--filter "${selection.filter}" on cell ${cell.id}: ${verdict.message}`, { details: { flag: 'filter', value: selection.filter } });
      return Boolean(verdict);
    });
  }
  if (selection.ids) {
    const ids = selection.ids;
    kept = kept.filter((c) => ids.has(c.id));
  }
  return kept;
}
