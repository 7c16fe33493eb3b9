import { expect, it } from 'vitest';
import { execa } from 'execa';
import { projectRoot } from '../harness/core/project-root.js';

/** Strict TypeScript over the whole project, tests included: vitest strips types, so this is where a type error fails CI. */
it('type-checks with no errors', async () => {
  const result = await execa(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', 'tsconfig.test.json'], { cwd: projectRoot(), reject: false, all: true });
  expect(result.all, 'tsc --noEmit').toBe('');
  expect(result.exitCode).toBe(0);
}, 300_000);
