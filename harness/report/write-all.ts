import { mkdir, open, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { CellResult } from '../model/result.js';
import type { RunInfo, RunRecord, RunSummaryRecord } from './run-record.js';
import { JSON_TAIL, jsonCell, jsonHead } from './json.js';
import { buildMarkdown, ciRunLink } from './markdown.js';
import { indexChunks } from './html/index-page.js';
import { renderCellPage } from './html/cell-page.js';
import { FlagColumns } from './html/flags.js';
import { WorldsTally } from './html/worlds.js';
import { cellFile } from './html/escape.js';
import { assertValidJUnit } from './junit-validate.js';
import { summariseCell, type CellSummary } from './cell-summary.js';
import type { RunFolder } from './results-read.js';

export interface ReportPaths {
  json: string;
  junit: string;
  markdown: string;
  html: string;
}

/** results.json, junit.xml, summary.md, index.html and one page per cell, from a record in memory (merge, tests). */
export async function writeReports(record: RunRecord, dir: string): Promise<ReportPaths> {
  const { cells, ...info } = record;
  return (await writeFrom(info, cells.length, cells, dir, new Set(cells.map((c) => c.backend)))).paths;
}

/**
 * Every report of a run folder, its results streamed from results.jsonl a cell at a time: each
 * cell's line of results.json, <testsuite> and page is written as the cell is read, and only its
 * summary and what the index's tables need stay. `info` is the run as it is to be reported (a
 * finished run's trailer, a policy's verdict). Returns the run with its cells' summaries.
 */
export async function writeFolderReports(folder: RunFolder, info: RunInfo = folder.info): Promise<{ paths: ReportPaths; record: RunSummaryRecord }> {
  return writeFrom(info, folder.count, folder.cells(), folder.dir, folder.backends);
}

async function writeFrom(
  info: RunInfo,
  count: number,
  cells: AsyncIterable<CellResult> | Iterable<CellResult>,
  dir: string,
  backends: ReadonlySet<string>,
): Promise<{ paths: ReportPaths; record: RunSummaryRecord }> {
  await mkdir(join(dir, 'cells'), { recursive: true });
  const paths = { json: join(dir, 'results.json'), junit: join(dir, 'junit.xml'), markdown: join(dir, 'summary.md'), html: join(dir, 'index.html') };
  // junit-report-builder (~19 MiB RSS with its XML DOM library) loads when reports are written, not with the harness.
  const { junitCell, junitQualification, SuitesText } = await import('./junit.js');
  // JUnit's root carries the totals: the suites go to a side file until they are known.
  const suitesPart = `${paths.junit}.part`;
  const json = await BatchedFile.open(paths.json);
  const suites = await BatchedFile.open(suitesPart);
  const junit = new SuitesText();
  const summaries: CellSummary[] = [];
  const tables = { flags: new FlagColumns(), worlds: new WorldsTally(backends) };
  try {
    await json.write(jsonHead(info, count));
    const qualification = junitQualification(info);
    if (qualification) await suites.write(junit.add(qualification));
    let index = 0;
    for await (const cell of cells) {
      await json.write(jsonCell(cell, ++index === count));
      await suites.write(junit.add(junitCell(cell, info.matrix.name, { runDir: dir })));
      await writeFile(join(dir, 'cells', cellFile(cell.id)), renderCellPage(info, cell));
      tables.flags.add(cell);
      tables.worlds.add(cell);
      summaries.push(summariseCell(cell));
    }
    if (count > 0) await json.write(JSON_TAIL);
  } finally {
    await json.close();
    await suites.close();
  }
  const empty = !info.qualification && count === 0;
  await writeJUnit(paths.junit, junit.head(), empty ? undefined : suitesPart);
  await rm(suitesPart, { force: true });
  // Set by the test suite: every JUnit written under test must be one Jenkins' xUnit accepts.
  if (process.env.BOTHWORLDS_JUNIT_SCHEMA) await assertValidJUnit(paths.junit, process.env.BOTHWORLDS_JUNIT_SCHEMA);
  const record: RunSummaryRecord = { ...info, cells: summaries };
  await writeFile(paths.markdown, buildMarkdown(record, { htmlReport: 'index.html', ...ciRunLink(process.env) }));
  await BatchedFile.writeAll(paths.html, indexChunks(record, tables));
  return { paths, record };
}

/**
 * junit.xml: the root with the totals, then the suites copied from their side file through one
 * reused buffer (a stream pipeline read into a fresh 64 KiB buffer each time: ~7 MB of external
 * memory for 10,000 cells, still uncollected when the index was written).
 */
async function writeJUnit(path: string, head: string, suitesPart: string | undefined): Promise<void> {
  const out = await open(path, 'w');
  try {
    if (!suitesPart) return void (await out.write(`${head}/>`));
    await out.write(`${head}>\n`);
    const from = await open(suitesPart, 'r');
    try {
      const buffer = Buffer.allocUnsafe(64 * 1024);
      for (let read = 0; (read = (await from.read(buffer, 0, buffer.length, null)).bytesRead) > 0; ) {
        for (let written = 0; written < read; ) written += (await out.write(buffer, written, read - written)).bytesWritten;
      }
    } finally {
      await from.close();
    }
    await out.write('</testsuites>');
  } finally {
    await out.close();
  }
}

/**
 * Generated text written in ~32 KB batches: results.json of 10,000 cells is ~18 MB, never one
 * string. Small batches are written while young: a 1 MiB batch outlived two scavenges, so every
 * byte of every report was promoted to old space (and the joined text was a large object).
 */
class BatchedFile {
  private batch: string[] = [];
  private size = 0;

  private constructor(private readonly file: FileHandle) {}

  static async open(path: string): Promise<BatchedFile> {
    return new BatchedFile(await open(path, 'w'));
  }

  /** A file made of generated parts (index.html of a large run, a heatmap row at a time). */
  static async writeAll(path: string, parts: Iterable<string>): Promise<void> {
    const file = await BatchedFile.open(path);
    try {
      for (const part of parts) await file.write(part);
    } finally {
      await file.close();
    }
  }

  async write(text: string): Promise<void> {
    this.batch.push(text);
    this.size += text.length;
    if (this.size >= 32 * 1024) await this.flush();
  }

  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.file.close();
    }
  }

  private async flush(): Promise<void> {
    if (this.batch.length === 0) return;
    const text = this.batch.join('');
    this.batch = [];
    this.size = 0;
    await this.file.write(text);
  }
}
