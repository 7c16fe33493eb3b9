import { ConfigError } from '../core/errors.js';

export interface MatrixIssue {
  file: string;
  /** 1-based */
  line: number;
  /** 1-based */
  column: number;
  message: string;
  /** Where in the document, e.g. axes.vcpus[1] */
  path: string;
}

/** A matrix file is wrong; every issue names file:line:column. Nothing was started. */
export class MatrixError extends ConfigError {
  constructor(readonly issues: MatrixIssue[]) {
    super('MATRIX_INVALID', issues.map((i) => `${i.file}:${i.line}:${i.column}: ${i.message}`).join('\n'), { details: { issues } });
  }
}
