import { describeError } from '../core/errors.js';
import { validateEvent } from '../inject/registry.js';
import { LackReport, machineLacks } from '../matrix/check-cells.js';
import type { MatrixIssue } from '../matrix/errors.js';
import type { MatrixFile } from '../matrix/load.js';
import { formatPath, type DocPath } from '../matrix/positions.js';
import type { Cell, SuiteRef } from '../model/cell.js';
import type { Suite } from './api.js';

/**
 * The events suites add, checked per cell like scenario steps: parameters their kind accepts, and
 * a machine that can do them (hotplug-awareness plugs a vCPU: a cell at maxvcpus cannot). Each
 * problem is reported once at the suite's entry in the matrix, before any VM. `loadSuite` resolves
 * names (the registry of built-ins lives above this layer, in harness/run/suite-registry.ts).
 */
export async function checkSuiteEvents(file: MatrixFile, cells: Iterable<Cell>, loadSuite: (ref: SuiteRef) => Promise<Suite>): Promise<MatrixIssue[]> {
  const report = new LackReport();
  const invalid = new Map<string, MatrixIssue>();
  const issueAt = (path: DocPath, message: string): MatrixIssue => ({ file: file.path, ...(file.locate?.(path) ?? { line: 1, column: 1 }), path: formatPath(path), message });
  for (const cell of cells) {
    for (const [i, ref] of cell.suites.entries()) {
      const suite = await loadSuite(ref);
      const path: DocPath = ['suites', i];
      let events;
      try {
        events = suite.events?.(cell, ref.options) ?? [];
      } catch (error) {
        invalid.set(`${i}`, issueAt(path, `suite ${suite.name} cannot schedule its events: ${describeError(error)}`));
        continue;
      }
      for (const event of events) {
        try {
          validateEvent(event);
        } catch (error) {
          invalid.set(`${i}/${event.kind}`, issueAt(path, `suite ${suite.name} schedules ${event.label ?? event.kind}: ${describeError(error)}`));
          continue;
        }
        const lack = machineLacks(cell, event);
        if (lack) report.add(path, { ...lack, need: `suite ${suite.name} schedules ${event.label ?? event.kind}: ${lack.need}` }, cell, `with this suite`);
      }
    }
  }
  return [...invalid.values(), ...report.issues(file)].sort((a, b) => a.line - b.line || a.column - b.column);
}
