import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunRecord } from './run-record.js';
import { buildJson } from './json.js';
import { buildJUnit } from './junit.js';
import { buildMarkdown, ciRunLink } from './markdown.js';
import { renderIndex } from './html/index-page.js';
import { renderCellPage } from './html/cell-page.js';
import { cellFile } from './html/escape.js';
import { assertValidJUnit } from './junit-validate.js';

/** results.json, junit.xml, summary.md, index.html and one page per cell, all rebuilt from the record. */
export async function writeReports(record: RunRecord, dir: string): Promise<{ json: string; junit: string; markdown: string; html: string }> {
  await mkdir(join(dir, 'cells'), { recursive: true });
  const paths = { json: join(dir, 'results.json'), junit: join(dir, 'junit.xml'), markdown: join(dir, 'summary.md'), html: join(dir, 'index.html') };
  await writeFile(paths.json, buildJson(record));
  await writeFile(paths.junit, buildJUnit(record, { runDir: dir }));
  // Set by the test suite: every JUnit written under test must be one Jenkins' xUnit accepts.
  if (process.env.BOTHWORLDS_JUNIT_SCHEMA) await assertValidJUnit(paths.junit, process.env.BOTHWORLDS_JUNIT_SCHEMA);
  await writeFile(paths.markdown, buildMarkdown(record, { htmlReport: 'index.html', ...ciRunLink(process.env) }));
  await writeFile(paths.html, renderIndex(record));
  for (const cell of record.cells) await writeFile(join(dir, 'cells', cellFile(cell.id)), renderCellPage(record, cell));
  return paths;
}
