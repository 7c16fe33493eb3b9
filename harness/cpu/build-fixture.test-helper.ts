import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { projectRoot } from '../core/project-root.js';

/** Flags for each C fixture of test/fixtures/isa/: what gcc must be told to emit. */
export const FIXTURE_FLAGS: Record<string, string[]> = {
  avx2: ['-mavx2', '-static'],
  aes: ['-maes', '-static'],
  bmi2: ['-mbmi2', '-static'],
  dispatch: ['-static'],
  memcpy: [],
};

/** Build test/fixtures/isa/NAME.c with gcc -O2 (static unless the fixture is the dynamic one) into a temp folder. */
export async function buildIsaFixture(name: keyof typeof FIXTURE_FLAGS, dir = mkdtempSync(join(tmpdir(), 'bw-isa-'))): Promise<string> {
  const out = join(dir, name);
  await execa('gcc', ['-O2', ...FIXTURE_FLAGS[name]!, '-o', out, join(projectRoot(), 'test', 'fixtures', 'isa', `${name}.c`)]);
  return out;
}
