/** Moved to harness/core/scope.ts (every backend uses it; run/ is above them). Kept for imports not yet moved. */
export * from '../core/scope.js';
