/** Results and reports: the durable store, every report format, compare, merge and progress. */
export type { EnvironmentFingerprint, RunHeader, RunInfo, RunRecord, RunSummaryRecord } from './run-record.js';
export type { CellSummary } from './cell-summary.js';
export { collectEnvironment } from './environment.js';
export { ResultsStore, readResults, RESULTS_FILE } from './results-store.js';
export { RunFolder } from './results-read.js';
export { writeReports, writeFolderReports, type ReportPaths } from './write-all.js';
export { buildJson } from './json.js';
export { buildJUnit } from './junit.js';
export { buildMarkdown } from './markdown.js';
export { renderIndex } from './html/index-page.js';
export { renderCellPage } from './html/cell-page.js';
export { compareRuns, formatComparison, type Comparison, type CompareOptions, type MetricChange } from './compare.js';
export { mergeRuns } from './merge.js';
export { createProgress, type Progress, type ProgressOptions } from './progress.js';
export { screenshotPage, type ScreenshotOptions } from './screenshot.js';
