import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import type { CellResult } from '../model/result.js';
import type { RunHeader, RunInfo, RunRecord } from './run-record.js';

export const RESULTS_FILE = 'results.jsonl';

export type Line = { type: 'header'; header: RunHeader } | { type: 'cell'; cell: CellResult } | { type: 'finish'; finishedAt: string; interrupted: boolean };

/**
 * A run folder's results.jsonl read a line at a time, never whole (10,000 cells are ~18 MB of
 * text and ten times that as objects). The last result of each cell wins (a resumed run
 * re-records interrupted cells), in the order of those last lines; a half-written last line (a
 * crash mid-write) is ignored; a run without a trailer is interrupted.
 */
export class RunFolder {
  private constructor(
    readonly dir: string,
    readonly info: RunInfo,
    /** The index of each cell's last line, ascending: the ids themselves are not kept (10,000 strings). */
    private readonly wanted: Int32Array,
    /** The backends of the cells with a result. */
    readonly backends: ReadonlySet<string>,
  ) {}

  /** The first pass: the header, the trailer, and which line holds each cell's result. */
  static async open(dir: string): Promise<RunFolder> {
    let header: RunHeader | undefined;
    let finish: { finishedAt: string; interrupted: boolean } | undefined;
    const last = new Map<string, number>();
    const backends = new Set<string>();
    for await (const { index, line } of lines(dir)) {
      if (line.type === 'header') header = line.header;
      else if (line.type === 'cell') {
        finish = undefined; // a resumed run appends after an earlier trailer
        last.delete(line.cell.id);
        last.set(line.cell.id, index);
        backends.add(line.cell.backend);
      } else if (line.type === 'finish') finish = { finishedAt: line.finishedAt, interrupted: line.interrupted };
    }
    if (!header) throw new ConfigError('RESULTS_INVALID', `${join(dir, RESULTS_FILE)} has no header line`);
    return new RunFolder(dir, { ...header, ...(finish ? { finishedAt: finish.finishedAt } : {}), interrupted: finish?.interrupted ?? true }, Int32Array.from(last.values()).sort(), backends);
  }

  /** Cells with a result. */
  get count(): number {
    return this.wanted.length;
  }

  /** Each cell's latest result, one at a time, in the order of their last lines. */
  async *cells(): AsyncGenerator<CellResult> {
    let next = 0;
    for await (const { index, line } of lines(this.dir)) {
      if (index !== this.wanted[next]) continue;
      next++;
      if (line.type === 'cell') yield line.cell;
    }
  }
}

/** Read a whole run back, every result in memory (compare, merge, certify: callers that need them all). */
export async function readResults(dir: string): Promise<RunRecord> {
  const folder = await RunFolder.open(dir);
  const cells: CellResult[] = [];
  for await (const cell of folder.cells()) cells.push(cell);
  return { ...folder.info, cells };
}

/** Parsed lines with their index in the file; only the text after the last newline may be cut short. */
async function* lines(dir: string): AsyncGenerator<{ index: number; line: Line }> {
  const path = join(dir, RESULTS_FILE);
  // Chunks stay below V8's large-object size (128 KB, two-byte text included): a larger string is
  // allocated in old space and freed only by a full collection, so 10,000 cells' reads piled up there.
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 32 * 1024 });
  let rest = '';
  let index = 0;
  const parse = (raw: string, final: boolean): Line | undefined => {
    try {
      return JSON.parse(raw) as Line;
    } catch (cause) {
      if (final) return undefined; // the half-written line of a crash
      throw new ConfigError('RESULTS_INVALID', `${path}:${index + 1} is not JSON (only the last line may be cut short by a crash)`, { cause });
    }
  };
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      const text = rest + chunk;
      let start = 0;
      for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
        const raw = text.slice(start, end);
        start = end + 1;
        const line = raw.trim() ? parse(raw, false) : undefined;
        if (line) yield { index, line };
        index++;
      }
      rest = text.slice(start);
    }
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') throw new ConfigError('RESULTS_MISSING', `${dir} holds no ${RESULTS_FILE}: not a bothworlds run folder`, { cause });
    throw cause;
  }
  const line = rest.trim() ? parse(rest, true) : undefined;
  if (line) yield { index, line };
}
