import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { projectRoot } from '../harness/core/project-root.js';

const harness = join(projectRoot(), 'harness');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.includes('test-helper') ? [path] : [];
  });
}

/** Imports of `file` that land under harness/<folder>/ (relative specifiers only). */
function importsInto(file: string, folder: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import\()\s*'(\.[^']+)'/g)].map((m) => relative(harness, join(file, '..', m[1]!))).filter((target) => target.startsWith(`${folder}/`));
}

/** The layering the moves of issue 14 established: lower folders never import higher ones. */
describe('layers', () => {
  it.each(['machines', 'qmp', 'qga', 'images', 'net', 'snapshots', 'core', 'model'])('harness/%s imports nothing from harness/run/', (folder) => {
    const offenders = sources(join(harness, folder)).flatMap((file) => importsInto(file, 'run').map((target) => `${relative(harness, file)} → ${target}`));
    expect(offenders).toEqual([]);
  });

  it('sees imports at all (a control: backends do import the scope from core/)', () => {
    expect(sources(join(harness, 'machines')).flatMap((file) => importsInto(file, 'core'))).toContain('core/scope.js');
  });

  it('the suite API (harness/suite/) imports no suite: the built-ins are registered above it, in harness/run/suite-registry.ts', () => {
    const offenders = sources(join(harness, 'suite')).flatMap((file) => importsInto(file, '../suites').map((target) => `${relative(harness, file)} → ${target}`));
    expect(offenders).toEqual([]);
  });

  it.each(['run', 'report', 'cli', 'policy', 'certify'])('the built-in suites (suites/) import nothing from harness/%s/', (folder) => {
    const suites = join(projectRoot(), 'suites');
    const offenders = sources(suites).flatMap((file) => importsInto(file, folder).map((target) => `${relative(suites, file)} → ${target}`));
    expect(offenders).toEqual([]);
  });

  it('the guest agent client (qga/) imports nothing from machines/', () => {
    expect(sources(join(harness, 'qga')).flatMap((file) => importsInto(file, 'machines'))).toEqual([]);
  });
});
