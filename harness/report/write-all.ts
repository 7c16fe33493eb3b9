import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunRecord } from './run-record.js';
import { jsonChunks } from './json.js';
import { buildMarkdown, ciRunLink } from './markdown.js';
import { renderIndex } from './html/index-page.js';
import { renderCellPage } from './html/cell-page.js';
import { cellFile } from './html/escape.js';
import { assertValidJUnit } from './junit-validate.js';

/** results.json, junit.xml, summary.md, index.html and one page per cell, all rebuilt from the record. */
export async function writeReports(record: RunRecord, dir: string): Promise<{ json: string; junit: string; markdown: string; html: string }> {
  await mkdir(join(dir, 'cells'), { recursive: true });
  const paths = { json: join(dir, 'results.json'), junit: join(dir, 'junit.xml'), markdown: join(dir, 'summary.md'), html: join(dir, 'index.html') };
  await writeChunks(paths.json, jsonChunks(record));
  // junit-report-builder (~21 MiB RSS with its XML DOM library) loads when reports are written, not with the harness.
  const { buildJUnit } = await import('./junit.js');
  await writeFile(paths.junit, buildJUnit(record, { runDir: dir }));
  // Set by the test suite: every JUnit written under test must be one Jenkins' xUnit accepts.
  if (process.env.BOTHWORLDS_JUNIT_SCHEMA) await assertValidJUnit(paths.junit, process.env.BOTHWORLDS_JUNIT_SCHEMA);
  await writeFile(paths.markdown, buildMarkdown(record, { htmlReport: 'index.html', ...ciRunLink(process.env) }));
  await writeFile(paths.html, renderIndex(record));
  for (const cell of record.cells) await writeFile(join(dir, 'cells', cellFile(cell.id)), renderCellPage(record, cell));
  return paths;
}

/** Write generated text in ~1 MiB batches: results.json of 10,000 cells is ~18 MB, never one string. */
async function writeChunks(path: string, chunks: Iterable<string>): Promise<void> {
  const file = await open(path, 'w');
  try {
    let batch: string[] = [];
    let size = 0;
    for (const chunk of chunks) {
      batch.push(chunk);
      size += chunk.length;
      if (size >= 2 ** 20) {
        await file.write(batch.join(''));
        batch = [];
        size = 0;
      }
    }
    if (batch.length > 0) await file.write(batch.join(''));
  } finally {
    await file.close();
  }
}
