export * from './cell.js';
export * from './facts.js';
export * from './machine-spec.js';
export * from './metrics.js';
export * from './outcome.js';
export * from './result.js';
