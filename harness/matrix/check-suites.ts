import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { didYouMean } from './did-you-mean.js';
import type { DocPath } from './positions.js';
import type { At, CheckContext, RawMatrix, RawSuite, SuiteInfo } from './raw.js';
import { reportSchemaError, schemaErrors } from './schema-errors.js';

/** A suite reference is a path (to the user's module) when it has a slash or a module extension. */
export function isSuitePath(name: string): boolean {
  return name.includes('/') || /\.(ts|js|mjs)$/.test(name);
}

const nameOf = (suite: RawSuite): unknown => (typeof suite === 'string' ? suite : suite && typeof suite === 'object' ? suite.name : undefined);

/** Absolute paths of the user suite modules a matrix names that exist (loadMatrix imports them before checking). */
export function userSuitePaths(raw: Pick<RawMatrix, 'suites'> | null, baseDir: string): string[] {
  const suites = raw && typeof raw === 'object' && Array.isArray(raw.suites) ? raw.suites : [];
  return suites
    .map(nameOf)
    .filter((name): name is string => typeof name === 'string' && isSuitePath(name))
    .map((name) => resolve(baseDir, name))
    .filter((path) => existsSync(path));
}

/**
 * Suite names and options: a built-in name (else "did you mean"), or a suite module that exists
 * and exports a suite; options valid against the suite's `optionsSchema` when it declares one.
 */
export function checkSuites(ctx: CheckContext): void {
  const { raw, at } = ctx;
  const catalog = ctx.options.suites;
  (Array.isArray(raw.suites) ? raw.suites : []).forEach((suite, i) => {
    const name = nameOf(suite);
    if (typeof name !== 'string') return;
    const written = typeof suite !== 'string';
    const namePath: DocPath = written ? ['suites', i, 'name'] : ['suites', i];
    let info: SuiteInfo | undefined;
    if (isSuitePath(name)) {
      const path = resolve(ctx.baseDir, name);
      if (!existsSync(path)) {
        at(namePath, `suite module "${name}" does not exist (looked for ${path})`);
        return;
      }
      const loaded = ctx.userSuites.get(path);
      if (loaded instanceof Error) {
        at(namePath, `suite module "${name}" cannot be used: ${loaded.message}`);
        return;
      }
      info = loaded;
    } else if (catalog) {
      info = catalog.builtin[name];
      if (!info) {
        const known = Object.keys(catalog.builtin);
        at(namePath, `unknown suite "${name}"${didYouMean(name, known)}; built-in suites: ${known.join(', ')}, or a path to a suite module (./suites/my-suite.ts)`);
        return;
      }
    }
    if (!info?.optionsSchema) return;
    const options = written && suite.options !== undefined ? suite.options : {};
    const prefix: DocPath = written && suite.options !== undefined ? ['suites', i, 'options'] : ['suites', i];
    const inSuite: At = (path, message, key) => at(path, `suite ${info.name}: ${message}`, key);
    for (const error of schemaErrors(info.optionsSchema, options)) reportSchemaError(error, inSuite, prefix);
  });
}
