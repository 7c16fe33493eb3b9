import type { Cell } from '../model/cell.js';

/**
 * The cells of a run, made again each time they are iterated: a run of 10,000 local cells holds
 * the cell it runs, not a list of all of them (the list and the burst of allocation that built it
 * set V8's first heap limit high for the whole run). Iterating twice yields the same cells.
 */
export interface CellSource extends Iterable<Cell> {
  /** How many cells an iteration yields. */
  readonly size: number;
}

/** A source over cells made on each iteration by `make`; `size` is counted once if not given. */
export function cellSource(make: () => Iterator<Cell>, size?: number): CellSource {
  const iterable = { [Symbol.iterator]: make };
  let count = size;
  if (count === undefined) {
    count = 0;
    for (const _ of iterable) count++;
  }
  return { size: count, [Symbol.iterator]: make };
}

/** An array as a source (cells built in code, tests, benches). */
export function fromCells(cells: readonly Cell[]): CellSource {
  return cellSource(() => cells[Symbol.iterator](), cells.length);
}

/** The cells of `source` that `keep` keeps, in order (counted once, here). */
export function filterCells(source: CellSource, keep: (cell: Cell) => boolean): CellSource {
  return cellSource(function* () {
    for (const cell of source) if (keep(cell)) yield cell;
  });
}

/** Each cell of `source` as `change` makes it. */
export function mapCells(source: CellSource, change: (cell: Cell) => Cell): CellSource {
  return cellSource(function* () {
    for (const cell of source) yield change(cell);
  }, source.size);
}

/** An array or a source, as a source. */
export function asCellSource(cells: readonly Cell[] | CellSource): CellSource {
  return isCellArray(cells) ? fromCells(cells) : cells;
}

function isCellArray(cells: readonly Cell[] | CellSource): cells is readonly Cell[] {
  return Array.isArray(cells);
}
