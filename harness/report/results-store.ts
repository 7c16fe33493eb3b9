import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import type { CellResult } from '../model/result.js';
import type { RunHeader, RunInfo, RunSummaryRecord } from './run-record.js';
import { summariseCell, type CellSummary } from './cell-summary.js';
import { RESULTS_FILE, RunFolder, type Line } from './results-read.js';

export { RESULTS_FILE, readResults } from './results-read.js';

/**
 * Durable results: one JSON line per finished cell, appended and fsynced as the cell finishes, so
 * a crash leaves every finished cell on disk and `--resume` can continue. Appends are serialised
 * through one queue, so concurrent calls never interleave their bytes.
 */
export class ResultsStore {
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    readonly dir: string,
    private readonly file: FileHandle,
    private readonly info: RunInfo,
  ) {}

  static async create(dir: string, header: RunHeader): Promise<ResultsStore> {
    await mkdir(dir, { recursive: true });
    let file: FileHandle;
    try {
      file = await open(join(dir, RESULTS_FILE), 'ax');
    } catch (cause) {
      throw new ConfigError('RESULTS_EXIST', `${join(dir, RESULTS_FILE)} already exists: resume that run or pick another folder`, { cause });
    }
    const store = new ResultsStore(dir, file, { ...header, interrupted: false });
    await store.write({ type: 'header', header });
    return store;
  }

  /**
   * Reopen a run for --resume; the record holds what is already finished. With `matrixHash`, a
   * run of a since-edited matrix file is refused: its finished cells may no longer mean the same. A half-written last
   * line (the crash) is cut off first: appending after it would glue the next result onto it.
   */
  static async open(dir: string, expected: { matrixHash?: string } = {}): Promise<{ store: ResultsStore; record: RunSummaryRecord }> {
    const folder = await RunFolder.open(dir);
    const cells: CellSummary[] = [];
    for await (const cell of folder.cells()) cells.push(summariseCell(cell));
    const record: RunSummaryRecord = { ...folder.info, cells };
    if (expected.matrixHash && record.matrix.hash !== expected.matrixHash) {
      throw new ConfigError('RESUME_MISMATCH', `${dir} is a run of ${record.matrix.path} as it was then (sha256 ${record.matrix.hash.slice(0, 12)}…); the matrix file has changed since (${expected.matrixHash.slice(0, 12)}…): start a new run`);
    }
    const file = await open(join(dir, RESULTS_FILE), 'r+');
    try {
      const { size } = await file.stat();
      const text = await readFile(file, 'utf8');
      const complete = Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1));
      if (complete < size) await file.truncate(complete);
    } catch (cause) {
      await file.close();
      throw cause;
    }
    const appender = await open(join(dir, RESULTS_FILE), 'a');
    await file.close();
    const { cells: _, ...info } = record;
    const store = new ResultsStore(dir, appender, { ...info, interrupted: false });
    return { store, record };
  }

  /** Nothing of the result stays in memory: reports read results.jsonl back (RunFolder), a cell at a time. */
  append(result: CellResult): Promise<void> {
    return this.write({ type: 'cell', cell: result });
  }

  /**
   * Write the trailer; returns the run as finished, without cells (its summaries were ~0.4 KB a
   * cell held for the whole run, and the reports summarise results.jsonl again anyway).
   */
  async finish(info: { interrupted: boolean }): Promise<RunInfo> {
    const finishedAt = new Date().toISOString();
    await this.write({ type: 'finish', finishedAt, interrupted: info.interrupted });
    await this.close();
    // The key order of results.json's head (interrupted before finishedAt) is what a run has always written.
    const { interrupted: _, ...rest } = this.info;
    return { ...rest, interrupted: info.interrupted, finishedAt };
  }

  /** Release the file without a trailer (the run stays "interrupted" for readers). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    await this.file.close();
  }

  private write(line: Line): Promise<void> {
    if (this.closed) return Promise.reject(new ConfigError('RESULTS_CLOSED', `the results store of ${this.dir} is closed`));
    const text = `${JSON.stringify(line)}\n`;
    const next = this.queue.then(async () => {
      await this.file.appendFile(text);
      await this.file.sync();
    });
    this.queue = next.catch(() => undefined);
    return next;
  }
}
