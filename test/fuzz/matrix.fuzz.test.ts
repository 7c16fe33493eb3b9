import { join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseMatrix } from '../../harness/matrix/load.js';
import { MatrixError } from '../../harness/matrix/errors.js';
import { projectRoot } from '../../harness/core/project-root.js';

const FILE = join(projectRoot(), 'matrices', 'fuzz.yaml');

/** Only MatrixError may come out of the loader: anything else is a crash on the user's input. */
function loadsOrRefuses(text: string): void {
  try {
    parseMatrix(text, FILE);
  } catch (error) {
    if (!(error instanceof MatrixError)) throw new Error(`the loader crashed on ${JSON.stringify(text).slice(0, 300)}: ${(error as Error).stack}`);
    expect(error.issues.length).toBeGreaterThan(0);
  }
}

const value = fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.string({ maxLength: 12 }), fc.constant(null), fc.constantFrom('1G', '384M', '2s', 'max', 'Nehalem', 'q35', '0', '-1', '1e9', '{a: b}', '*x', '&x y', '<<'));
const nested = fc.letrec((tie) => ({
  any: fc.oneof({ depthSize: 'small' }, value, fc.array(tie('any'), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 8 }), tie('any'), { maxKeys: 3 })),
})).any;
const key = (names: string[]) => fc.constantFrom(...names);
/** Documents shaped like matrices: the real keys with random (often wrong) values, plus stray keys. */
const matrixLike = fc.record(
  {
    name: fc.oneof(fc.string({ maxLength: 20 }), value),
    app: fc.oneof(fc.record({ command: fc.oneof(fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }), value), timeout: value, ready: value, files: fc.array(fc.string({ maxLength: 10 }), { maxLength: 2 }), service: value, env: fc.dictionary(fc.string({ maxLength: 6 }), value, { maxKeys: 2 }) }, { requiredKeys: [] }), nested),
    axes: fc.dictionary(key(['cpu', 'vcpus', 'maxvcpus', 'memory', 'maxmem', 'backend', 'machine', 'events', 'network', 'accel', 'balloon', 'run', 'cpux']), fc.oneof(fc.array(value, { maxLength: 4 }), value), { maxKeys: 5 }),
    defaults: fc.dictionary(key(['cpu', 'vcpus', 'memory', 'backend', 'maxvcpus']), value, { maxKeys: 3 }),
    constraints: fc.array(fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('maxvcpus >= vcpus', 'vcpus >', '(((', 'cpu == "max" and')), { maxLength: 2 }),
    include: fc.array(nested, { maxLength: 2 }),
    exclude: fc.array(nested, { maxLength: 2 }),
    scenarios: fc.dictionary(fc.string({ maxLength: 6 }), fc.array(fc.record({ at: value, on: value, do: fc.oneof(key(['cpu-plug', 'migrate', 'balloon', 'pause', 'mem-plug', 'nope']), value), with: nested }, { requiredKeys: [] }), { maxLength: 2 }), { maxKeys: 2 }),
    suites: fc.array(fc.oneof(key(['cpu-model', 'clocks', 'pmu', 'hotplug-awareness', 'nope']), nested), { maxLength: 2 }),
    timeout: value,
    stray: nested,
  },
  { requiredKeys: [] },
);

/** Issue 13: random matrix YAML through the loader. */
describe('fuzz: matrix loader', () => {
  it('random text never crashes it', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), loadsOrRefuses), { numRuns: 400 });
  });

  it('random matrix-shaped documents never crash it', () => {
    fc.assert(fc.property(matrixLike, (doc) => loadsOrRefuses(stringify(doc))), { numRuns: 250 });
  });

  it('YAML with anchors, aliases, tags and odd scalars never crashes it', () => {
    const pieces = fc.constantFrom('name: x\n', 'app: &a {command: [true]}\n', 'axes: *a\n', 'axes: {vcpus: [*a]}\n', '!!binary x\n', 'name: !!int 3\n', '? [a]\n: b\n', 'app: {command: [true], timeout: 99999999999999999999s}\n', 'axes: {memory: [0x10, 1e400, .inf, -.nan]}\n', '<<: *a\n', '---\n', '%YAML 1.2\n', 'axes: {cpu: [~]}\n', '\t\n', 'app:\n  command: "\\u0000"\n');
    fc.assert(fc.property(fc.array(pieces, { maxLength: 6 }), (parts) => loadsOrRefuses(parts.join(''))), { numRuns: 300 });
  });
});
