import { compileExpression } from 'filtrex';
import { ConfigError } from '../core/errors.js';
import type { Cell } from '../model/cell.js';
import { didYouMean } from './did-you-mean.js';
import { filterCells, fromCells, type CellSource } from './cell-source.js';

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
  return [...selectFrom(fromCells(cells), selection)];
}

/** As selectCells, over a source (checked here, in the pass that counts what is kept). */
export function selectFrom(source: CellSource, selection: CellSelection): CellSource {
  const tests: Array<(cell: Cell) => boolean> = [];
  if (selection.only && selection.only.length > 0) {
    const patterns = selection.only.map((text) => ({ text, regexp: globToRegExp(text), matched: false }));
    for (const cell of source) for (const p of patterns) p.matched ||= p.regexp.test(cell.id);
    const unmatched = patterns.find((p) => !p.matched);
    if (unmatched) {
      const ids = Array.from(source, (c) => c.id);
      throw new ConfigError('CLI_OPTION', `--only "${unmatched.text}" matches none of the matrix's ${ids.length} cell(s)${didYouMean(unmatched.text, ids)}; \`bothworlds list FILE\` shows their ids`, {
        details: { flag: 'only', value: unmatched.text },
      });
    }
    tests.push((cell) => patterns.some((p) => p.regexp.test(cell.id)));
  }
  if (selection.filter !== undefined) tests.push(filterTest(selection.filter));
  if (selection.ids) {
    const ids = selection.ids;
    tests.push((cell) => ids.has(cell.id));
  }
  return tests.length === 0 ? source : filterCells(source, (cell) => tests.every((test) => test(cell)));
}

/** The --filter expression as a test of a cell; one that does not parse or evaluate is exit 2. */
function filterTest(filter: string): (cell: Cell) => boolean {
  let test: (data: object) => unknown;
  try {
    test = compileExpression(filter);
  } catch (error) {
    throw new ConfigError('CLI_OPTION', `--filter "${filter}" does not parse: ${(error as Error).message.split('\n').at(-1)}`, { details: { flag: 'filter', value: filter } });
  }
  return (cell) => {
    const verdict = test({ backend: cell.backend, ...cell.axes });
    if (verdict instanceof Error) throw new ConfigError('CLI_OPTION', `--filter "${filter}" on cell ${cell.id}: ${verdict.message}`, { details: { flag: 'filter', value: filter } });
    return Boolean(verdict);
  };
}
