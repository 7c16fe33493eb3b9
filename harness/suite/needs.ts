import type { Cell } from '../model/cell.js';
import type { StartedMachine } from '../machines/machine.js';
import type { SuiteNeeds } from './api.js';
import type { LoadedSuite } from './session.js';

/**
 * The first unmet need of the cell's suites, as a reason to skip, or undefined. Without a
 * machine only static needs are checked (backend, KVM); with one, its control facets too.
 */
export function unmetNeeds(
  cell: Cell,
  suites: LoadedSuite[],
  context: { kvmUsable: boolean; machine?: StartedMachine },
): string | undefined {
  for (const { suite, options } of suites) {
    const needs: SuiteNeeds = typeof suite.needs === 'function' ? suite.needs(cell, options) : (suite.needs ?? {});
    if (needs.backends && !needs.backends.includes(cell.backend)) {
      return `suite ${suite.name} runs on ${needs.backends.join('/')} only, not ${cell.backend}`;
    }
    if (needs.kvm && !context.kvmUsable) return `suite ${suite.name} needs KVM, which is not usable here`;
    if (needs.runningApp && !cell.app.service) return `suite ${suite.name} needs the application to be a service (app.service: true)`;
    if (context.machine) {
      for (const facet of needs.controls ?? []) {
        if (!context.machine.controls[facet]) {
          const why = context.machine.controls.unsupportedReason[facet] ?? `the ${cell.backend} backend has no ${facet} control`;
          return `suite ${suite.name} needs ${facet}: ${why}`;
        }
      }
    }
  }
  return undefined;
}

/** Why the cell must boot cold (a suite observes boot), or undefined when a snapshot may serve. */
export function coldBootReason(cell: Cell, suites: LoadedSuite[]): string | undefined {
  for (const { suite, options } of suites) {
    const needs: SuiteNeeds = typeof suite.needs === 'function' ? suite.needs(cell, options) : (suite.needs ?? {});
    if (needs.coldBoot) return `suite ${suite.name} observes boot`;
  }
  return undefined;
}
