import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import type { CellResult } from '../model/result.js';
import type { RunHeader, RunRecord } from './run-record.js';

type Line = { type: 'header'; header: RunHeader } | { type: 'cell'; cell: CellResult } | { type: 'finish'; finishedAt: string; interrupted: boolean };

export const RESULTS_FILE = 'results.jsonl';

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
    private readonly record: RunRecord,
  ) {}

  static async create(dir: string, header: RunHeader): Promise<ResultsStore> {
    await mkdir(dir, { recursive: true });
    let file: FileHandle;
    try {
      file = await open(join(dir, RESULTS_FILE), 'ax');
    } catch (cause) {
      throw new ConfigError('RESULTS_EXIST', `${join(dir, RESULTS_FILE)} already exists: resume that run or pick another folder`, { cause });
    }
    const store = new ResultsStore(dir, file, { ...header, interrupted: false, cells: [] });
    await store.write({ type: 'header', header });
    return store;
  }

  /**
   * Reopen a run for --resume; the record holds what is already finished. With `matrixHash`, a
   * run of a since-edited matrix file is refused: its finished cells may no longer mean the same. A half-written last
   * line (the crash) is cut off first: appending after it would glue the next result onto it.
   */
  static async open(dir: string, expected: { matrixHash?: string } = {}): Promise<{ store: ResultsStore; record: RunRecord }> {
    const record = await readResults(dir);
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
    // Its own list: appends change it in place, the caller's record stays as read.
    const store = new ResultsStore(dir, appender, { ...record, cells: [...record.cells], interrupted: false });
    return { store, record };
  }

  append(result: CellResult): Promise<void> {
    // In place: copying the list per result made a 10,000-cell run quadratic in time and garbage.
    const index = this.record.cells.findIndex((c) => c.id === result.id);
    if (index >= 0) this.record.cells.splice(index, 1);
    this.record.cells.push(this.shareRepeated(result));
    return this.write({ type: 'cell', cell: result });
  }

  private readonly sharedLists = new Map<string, string[]>();

  /**
   * Every result stays in memory for the reports; most of a local cell's is the host's CPU flag list
   * (~120 strings), the same for every cell: equal string lists become one shared list.
   */
  private shareRepeated<T>(value: T, depth = 0): T {
    if (depth > 6 || value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) {
      if (value.length >= 8 && value.every((v) => typeof v === 'string')) {
        const key = value.join('\u0000');
        const shared = this.sharedLists.get(key);
        if (shared) return shared as T;
        if (this.sharedLists.size < 1_000) this.sharedLists.set(key, value as string[]);
        return value;
      }
      for (let i = 0; i < value.length; i++) value[i] = this.shareRepeated(value[i], depth + 1);
      return value;
    }
    for (const [k, v] of Object.entries(value)) if (v !== null && typeof v === 'object') (value as Record<string, unknown>)[k] = this.shareRepeated(v, depth + 1);
    return value;
  }

  async finish(info: { interrupted: boolean }): Promise<RunRecord> {
    const finishedAt = new Date().toISOString();
    await this.write({ type: 'finish', finishedAt, interrupted: info.interrupted });
    await this.close();
    return { ...this.record, finishedAt, interrupted: info.interrupted };
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

/**
 * Read a run back. A truncated last line (a crash mid-write) is ignored; the last result of each
 * cell wins (a resumed run re-records interrupted cells). A run without a trailer is interrupted.
 */
export async function readResults(dir: string): Promise<RunRecord> {
  let text: string;
  try {
    text = await readFile(join(dir, RESULTS_FILE), 'utf8');
  } catch (cause) {
    throw new ConfigError('RESULTS_MISSING', `${dir} holds no ${RESULTS_FILE}: not a bothworlds run folder`, { cause });
  }
  const lines = text.split('\n');
  let header: RunHeader | undefined;
  const cells = new Map<string, CellResult>();
  let finish: { finishedAt: string; interrupted: boolean } | undefined;
  for (const [index, raw] of lines.entries()) {
    if (!raw.trim()) continue;
    let line: Line;
    try {
      line = JSON.parse(raw) as Line;
    } catch (cause) {
      if (index === lines.length - 1) continue; // the half-written line of a crash
      throw new ConfigError('RESULTS_INVALID', `${join(dir, RESULTS_FILE)}:${index + 1} is not JSON (only the last line may be cut short by a crash)`, { cause });
    }
    if (line.type === 'header') header = line.header;
    else if (line.type === 'cell') {
      finish = undefined; // a resumed run appends after an earlier trailer
      cells.delete(line.cell.id);
      cells.set(line.cell.id, line.cell);
    } else if (line.type === 'finish') finish = { finishedAt: line.finishedAt, interrupted: line.interrupted };
  }
  if (!header) throw new ConfigError('RESULTS_INVALID', `${join(dir, RESULTS_FILE)} has no header line`);
  return { ...header, ...(finish ? { finishedAt: finish.finishedAt } : {}), interrupted: finish?.interrupted ?? true, cells: [...cells.values()] };
}
