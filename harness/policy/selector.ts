import { compileExpression } from 'filtrex';
import type { AxisValue } from '../model/cell.js';
import { didYouMean } from '../matrix/did-you-mean.js';
import type { DocPath } from '../matrix/positions.js';
import type { At } from '../matrix/raw.js';
import type { CellSelector, PlannedCell } from './policy.js';

const isScalar = (value: unknown): value is AxisValue => typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';

/**
 * A cell selector as written: a map of axis → value or list of values (all must hold), or a
 * constraint expression in the language `constraints:` use. It is checked against the cells the
 * matrix produces: an unknown axis, a value no cell has, or a selector that matches no cell is an
 * error at its place, since a rule about cells that cannot exist guards nothing.
 */
export function compileSelector(value: unknown, path: DocPath, at: At, cells: readonly PlannedCell[]): CellSelector | undefined {
  const axes = axisValues(cells);
  let selector: CellSelector | undefined;
  if (typeof value === 'string' && value.trim() !== '') selector = expressionSelector(value, path, at, axes, cells);
  else if (value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) selector = mapSelector(value as Record<string, unknown>, path, at, axes);
  else at(path, `${where(path)} must be axis values ({cpu: [Nehalem, max], events: migrate}) or a constraint expression ('cpu == "max" and vcpus > 1')`);
  if (selector && !cells.some((cell) => selector.matches(cell.axes))) {
    at(path, `${where(path)} (${selector.text}) matches none of the matrix's ${cells.length} cell(s): the matrix cannot produce what it names (\`bothworlds list\` shows the cells)`);
    return undefined;
  }
  return selector;
}

function expressionSelector(text: string, path: DocPath, at: At, axes: Map<string, Set<string>>, cells: readonly PlannedCell[]): CellSelector | undefined {
  let test: (object: Record<string, AxisValue>) => unknown;
  try {
    test = compileExpression(text);
  } catch (error) {
    at(path, `${where(path)} does not parse: ${(error as Error).message.split('\n').at(-1)}`);
    return undefined;
  }
  // filtrex returns (not throws) an UnknownPropertyError naming the axis.
  const unknown = new Set<string>();
  const matches = (values: Record<string, AxisValue>): boolean => {
    const verdict = test(values);
    if (verdict instanceof Error) {
      const name = (verdict as Error & { propertyName?: string }).propertyName;
      if (name !== undefined && !axes.has(name)) unknown.add(name);
      return false;
    }
    return Boolean(verdict);
  };
  // A name only some cells lack (an axis `include` adds) is fine; one no cell has is a typo.
  for (const cell of cells) matches(cell.axes);
  if (unknown.size > 0) {
    for (const name of unknown) at(path, `${where(path)} names "${name}", which is no axis of the matrix${didYouMean(name, axes.keys())}; axes: ${[...axes.keys()].join(', ')}`);
    return undefined;
  }
  return { text, matches };
}

function mapSelector(map: Record<string, unknown>, path: DocPath, at: At, axes: Map<string, Set<string>>): CellSelector | undefined {
  const wanted = new Map<string, Set<string>>();
  let ok = true;
  for (const [axis, raw] of Object.entries(map)) {
    const known = axes.get(axis);
    if (!known) {
      at([...path, axis], `"${axis}" is no axis of the matrix${didYouMean(axis, axes.keys())}; axes: ${[...axes.keys()].join(', ')}`, true);
      ok = false;
      continue;
    }
    const list = Array.isArray(raw) ? raw : [raw];
    if (list.length === 0 || !list.every(isScalar)) {
      at([...path, axis], `${where([...path, axis])} must be a value or a list of values of the axis`);
      ok = false;
      continue;
    }
    list.forEach((v, i) => {
      if (known.has(String(v))) return;
      at(Array.isArray(raw) ? [...path, axis, i] : [...path, axis], `no cell of the matrix has ${axis} ${JSON.stringify(v)}${didYouMean(String(v), known)}; its values: ${[...known].join(', ')}`);
      ok = false;
    });
    wanted.set(axis, new Set(list.map(String)));
  }
  if (!ok) return undefined;
  const text = [...wanted].map(([axis, values]) => `${axis} ${values.size === 1 ? [...values][0] : `in (${[...values].join(', ')})`}`).join(', ');
  return { text, matches: (values) => [...wanted].every(([axis, set]) => values[axis] !== undefined && set.has(String(values[axis]))) };
}

/** Every axis of the cells and the values it takes (as text: YAML's 1 and "1" are one value). */
function axisValues(cells: readonly PlannedCell[]): Map<string, Set<string>> {
  const axes = new Map<string, Set<string>>();
  for (const cell of cells) for (const [axis, value] of Object.entries(cell.axes)) (axes.get(axis) ?? axes.set(axis, new Set()).get(axis)!).add(String(value));
  return axes;
}

function where(path: DocPath): string {
  return path.reduce<string>((text, key) => (typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${key}` : key), '');
}
