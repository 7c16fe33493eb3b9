import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../core/errors.js';
import type { Cell, SuiteRef } from '../model/cell.js';
import type { LoadOptions } from '../matrix/load.js';
import type { Suite } from '../suite/api.js';
import type { LoadedSuite } from '../suite/session.js';
import { builtinSuites } from '../../suites/index.js';

const userSuites = new Map<string, Promise<Suite>>();

/**
 * Resolve suite references: a built-in name, or the path of a user's ES module whose default
 * export (or `suite` export) is a Suite. Paths were made absolute by the matrix loader.
 */
export async function loadSuite(ref: SuiteRef): Promise<Suite> {
  const builtin = builtinSuites[ref.name];
  if (builtin) return builtin;
  if (!isAbsolute(ref.name)) {
    throw new ConfigError('SUITE_UNKNOWN', `unknown suite "${ref.name}"; built-in suites: ${Object.keys(builtinSuites).join(', ')}`);
  }
  let loading = userSuites.get(ref.name);
  if (!loading) {
    loading = import(pathToFileURL(ref.name).href).then((module: { default?: Suite; suite?: Suite }) => {
      const suite = module.default ?? module.suite;
      if (!suite || typeof suite.name !== 'string') {
        throw new ConfigError('SUITE_INVALID', `${ref.name} does not export a suite (export default defineSuite({...}))`);
      }
      return suite;
    });
    userSuites.set(ref.name, loading);
  }
  return loading;
}

/** What the matrix loader checks suite names and options against: the built-ins, and user modules imported by path. */
export const suiteCatalog: NonNullable<LoadOptions['suites']> = {
  builtin: builtinSuites,
  loadUser: (path) => loadSuite({ name: path, options: {} }),
};

export async function loadSuitesForCell(cell: Cell): Promise<LoadedSuite[]> {
  return Promise.all(cell.suites.map(async (ref) => ({ suite: await loadSuite(ref), options: ref.options })));
}
