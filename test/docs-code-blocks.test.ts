import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { execa } from 'execa';
import { parse as parseYaml } from 'yaml';
import { projectRoot } from '../harness/core/project-root.js';
import { expandChecked, loadCheckedMatrix, requireCells } from '../harness/cli/load-checked.js';

const root = projectRoot();
const files = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];

interface Block {
  file: string;
  line: number;
  lang: string;
  body: string;
}

/** Every fenced block of README.md and docs/*.md, with where it starts. */
function blocks(): Block[] {
  const out: Block[] = [];
  for (const file of files) {
    const text = readFileSync(join(root, file), 'utf8');
    for (const match of text.matchAll(/^```(\w*)[^\n]*\n([\s\S]*?)^```/gm)) {
      out.push({ file, line: text.slice(0, match.index).split('\n').length, lang: match[1] ?? '', body: match[2]! });
    }
  }
  return out;
}

const all = blocks();
const named = (b: Block) => `${b.file}:${b.line}`;
const scratch = mkdtempSync(join(tmpdir(), 'bw-docs-'));
// Inside the checkout, so `import ... from 'bothworlds'` resolves to this package by its own name.
const inTree = mkdtempSync(join(root, '.docs-check-'));
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  rmSync(inTree, { recursive: true, force: true });
});

describe('the code blocks of the README and docs/', () => {
  it('are all of a checked kind', () => {
    expect(all.length).toBeGreaterThan(20);
    // Untagged blocks are output samples or usage synopses; everything else is one of these.
    expect(all.filter((b) => !['', 'sh', 'yaml', 'ts'].includes(b.lang)).map(named)).toEqual([]);
  });

  it.each(all.filter((b) => b.lang === 'sh').map((b) => [named(b), b] as const))('sh %s parses (bash -n)', async (_, block) => {
    const result = await execa('bash', ['-n'], { input: block.body, reject: false });
    expect(result.exitCode, result.stderr).toBe(0);
  });

  it.each(all.filter((b) => b.lang === 'yaml').map((b) => [named(b), b] as const))('yaml %s: parses; a whole matrix loads, expands and has cells', async (_, block) => {
    const doc = parseYaml(block.body) as Record<string, unknown> | null;
    expect(doc).toBeTypeOf('object');
    if (!doc || !('name' in doc) || !('app' in doc)) return;
    // A matrix beside stand-ins for the files it names (the reader's own build output).
    const dir = join(scratch, named(block).replace(/[/:.]/g, '-'), 'matrices');
    mkdirSync(dir, { recursive: true });
    const app = doc.app as { files?: unknown[] };
    for (const f of app.files ?? []) {
      if (typeof f === 'string' && !f.startsWith('@')) {
        mkdirSync(dirname(resolve(dir, f)), { recursive: true });
        writeFileSync(resolve(dir, f), '#!/bin/sh\n', { mode: 0o755 });
      }
    }
    // ...and for the user suites it names by path: a module exporting a suite of that name.
    for (const ref of (doc.suites as unknown[] | undefined) ?? []) {
      const path = typeof ref === 'string' ? ref : (ref as { name?: string }).name;
      if (path?.startsWith('.')) mkdirSync(dirname(resolve(dir, path)), { recursive: true });
      if (path?.startsWith('.')) writeFileSync(resolve(dir, path), `export default { name: ${JSON.stringify(path.replace(/^.*\//, '').replace(/\.[jt]s$/, ''))} };\n`);
    }
    const file = join(dir, 'matrix.yaml');
    writeFileSync(file, block.body);
    const matrix = await loadCheckedMatrix(file);
    requireCells(matrix, await expandChecked(matrix));
  });

  const ts = all.filter((b) => b.lang === 'ts');
  it(`ts: all ${ts.length} blocks type-check against the package's own types (tsc --noEmit)`, async () => {
    const names = ts.map((b, i) => {
      const name = `block-${i}-${named(b).replace(/[/:.]/g, '-')}.ts`;
      writeFileSync(join(inTree, name), b.body);
      return name;
    });
    writeFileSync(join(inTree, 'tsconfig.json'), JSON.stringify({ extends: '../tsconfig.json', compilerOptions: { noEmit: true, rootDir: '.' }, include: names, exclude: [] }));
    const result = await execa('npx', ['tsc', '-p', join(inTree, 'tsconfig.json')], { cwd: root, reject: false, all: true });
    expect(result.exitCode, result.all).toBe(0);
  }, 120_000);

  // The README's test-file examples, run as a user would: vitest's defaults, nothing but the block.
  const vitestBlocks = ts.filter((b) => b.file === 'README.md' && b.body.includes("from 'vitest'"));
  it.each(vitestBlocks.map((b) => [named(b), b] as const))(
    'README %s passes under vitest as written',
    async (_, block) => {
      const dir = mkdtempSync(join(inTree, 'run-'));
      writeFileSync(join(dir, 'example.test.ts'), block.body);
      writeFileSync(join(dir, 'vitest.config.ts'), "export default { test: { include: ['example.test.ts'] } };\n");
      const result = await execa('npx', ['vitest', 'run', '--root', dir], { cwd: root, reject: false, all: true, env: { CI: 'true', NO_COLOR: '1' } });
      expect(result.exitCode, result.all).toBe(0);
      expect(result.all).toMatch(/Tests {2}1 passed/);
    },
    420_000,
  );
});
