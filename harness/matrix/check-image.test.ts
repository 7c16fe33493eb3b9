import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMatrix } from './load.js';
import { MatrixError } from './errors.js';
import { expandMatrix } from './expand.js';

const dir = mkdtempSync(join(tmpdir(), 'bw-image-axis-'));
const matrixPath = join(dir, 'm.yaml');
writeFileSync(join(dir, 'my.qcow2'), 'not really an image: only its existence is checked at load');

function issuesOf(text: string): string[] {
  try {
    parseMatrix(text, matrixPath);
  } catch (error) {
    expect(error).toBeInstanceOf(MatrixError);
    return (error as MatrixError).issues.map((i) => `${i.line}:${i.column} ${i.message}`);
  }
  throw new Error('expected a MatrixError');
}

describe('the image axis', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('makes default, debian-12 (with app.packages) and a path relative to the matrix file into images', () => {
    const file = parseMatrix('name: m\napp: {command: [/bin/true], packages: [redis-server]}\naxes: {image: [debian-12]}\n', matrixPath);
    expect(expandMatrix(file).cells[0]!.machine.image).toEqual({ kind: 'distro', name: 'debian-12', packages: ['redis-server'] });
    const mixed = expandMatrix(parseMatrix('name: m\napp: {command: [/bin/true]}\naxes: {image: [default, ./my.qcow2]}\n', matrixPath)).cells;
    expect(mixed.map((c) => c.machine.image)).toEqual([{ kind: 'default' }, { kind: 'disk', path: join(dir, 'my.qcow2') }]);
    // The image is part of the cell's identity: two images never share a cell id.
    expect(new Set(mixed.map((c) => c.id)).size).toBe(2);
  });

  it('takes a systemd unit instead of a command', () => {
    const file = parseMatrix('name: m\napp: {unit: redis-server.service, packages: [redis-server]}\ndefaults: {image: debian-12}\n', matrixPath);
    expect(expandMatrix(file).cells[0]!.app).toMatchObject({ command: [], unit: 'redis-server.service', service: true, packages: ['redis-server'] });
  });

  it('reports unknown images, missing files, and packages or units without a distribution image, at file:line:column', () => {
    expect(issuesOf('name: m\napp: {command: [/bin/true]}\naxes: {image: [debian-13]}\n')).toEqual([
      expect.stringMatching(/^3:\d+ image "debian-13" is not default, a built-in image \(debian-12\) or a path/),
    ]);
    expect(issuesOf('name: m\napp: {command: [/bin/true]}\naxes: {image: [./missing.qcow2]}\n')[0]).toMatch(/missing\.qcow2 does not exist \(paths are relative to the matrix file\)/);
    expect(issuesOf('name: m\napp: {command: [/bin/true], packages: [redis-server]}\naxes: {image: [default, debian-12]}\n')[0]).toMatch(/^2:\d+ app\.packages needs a distribution image in every cell/);
    expect(issuesOf('name: m\napp: {unit: redis-server.service}\n')[0]).toMatch(/app\.unit needs systemd/);
  });
});
