/** bothworlds' public API: write suites, build cells, run them from a test file or a script. */
export { defineSuite } from './suite/api.js';
export type { Suite, SuiteContext, SuiteNeeds } from './suite/api.js';
export { optionsSchema, argvOption, durationOption, enumOption, millisecondsOption, sizeOption } from './suite/options-schema.js';
export { defineCell, runOneCell, at, onLine } from './programmatic.js';
export type { CellInput, RunOneOptions, AppInput, MachineInput } from './programmatic.js';
export { startCell } from './fixture/start-cell.js';
export type { StartCellInput, StartedCell } from './fixture/start-cell.js';
export { startQemuMachine } from './machines/qemu/machine.js';
export type { QemuMachine } from './machines/qemu/machine.js';
export { SnapshotPool } from './snapshots/pool.js';
export { ResourceScope, rootScope } from './core/scope.js';
export * from './core/errors.js';
export type * from './model/index.js';
export type { StartedMachine, MachineControls, ExecResult } from './machines/machine.js';
export * as reports from './report/index.js';
