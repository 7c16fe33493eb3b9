import { parseMatrix } from '../harness/matrix/load.js';
import { expandMatrix } from '../harness/matrix/expand.js';
import { summarise, type BenchLine } from './stats.js';

/** Expand and filter a 10^6-combination space (6 axes x 10 values, one constraint), median of 5. */
export async function benchMatrixExpand(rounds = 5): Promise<BenchLine[]> {
  const values = '[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]';
  const file = parseMatrix(
    `name: big\napp: {command: ["true"]}\naxes: {a: ${values}, b: ${values}, c: ${values}, d: ${values}, e: ${values}, f: ${values}}\nconstraints: ["a + b + c + d + e + f < 4"]\n`,
    '/tmp/bench-expand.yaml',
  );
  const times: number[] = [];
  let cells = 0;
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    cells = expandMatrix(file, { collectDropped: false }).cells.length;
    times.push(performance.now() - started);
  }
  return [{ name: `expand + filter 10^6 combinations → ${cells} cells (median of ${rounds}, target < 1 s)`, value: summarise(times).median, unit: 'ms' }];
}
