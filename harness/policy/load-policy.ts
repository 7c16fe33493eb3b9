import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError } from '../core/errors.js';
import type { MatrixIssue } from '../matrix/errors.js';
import { formatPath, positionOf, type DocPath } from '../matrix/positions.js';
import type { At } from '../matrix/raw.js';
import { reportSchemaError, schemaErrors } from '../matrix/schema-errors.js';
import type { Outcome } from '../model/outcome.js';
import { parseLimit } from './limits.js';
import type { Acceptance, Limit, PlannedCell, Policy, RepeatRule } from './policy.js';
import { POLICY_SCHEMA } from './schema.js';
import { compileSelector } from './selector.js';

/** A policy is wrong; every issue names file:line:column. Nothing was started (exit 2). */
export class PolicyError extends ConfigError {
  constructor(readonly issues: MatrixIssue[]) {
    super('POLICY_INVALID', issues.map((i) => `${i.file}:${i.line}:${i.column}: ${i.message}`).join('\n'), { details: { issues } });
  }
}

export interface PolicySource {
  /** The file the text came from. */
  path: string;
  text: string;
  /** The policy is the `policy:` key of a matrix file rather than a file of its own. */
  inline: boolean;
  /** The file's name as the user knew it (a run folder keeps a copy under a fixed name). */
  name?: string;
}

/**
 * Read the policy of a run: the file given with --policy, else the matrix file's `policy:` key
 * (re-read, and refused if it changed since the matrix was loaded), else none.
 */
export async function readPolicySource(matrix: { path: string; hash: string }, file?: string): Promise<PolicySource | undefined> {
  if (file !== undefined) {
    const path = resolve(file);
    try {
      return { path, text: await readFile(path, 'utf8'), inline: false };
    } catch (error) {
      throw new PolicyError([{ file: path, line: 1, column: 1, path: '', message: `cannot read the policy file: ${(error as NodeJS.ErrnoException).code ?? String(error)}` }]);
    }
  }
  const text = await readFile(matrix.path, 'utf8');
  if (createHash('sha256').update(text).digest('hex') !== matrix.hash) throw new ConfigError('MATRIX_CHANGED', `${matrix.path} changed after it was loaded: run again`);
  const doc = parseDocument(text);
  return doc.has('policy') ? { path: matrix.path, text, inline: true } : undefined;
}

/**
 * Parse and validate a policy against the cells the matrix produces; `sources` are what a limit's
 * metric may name (`cell`, the matrix's suites, the event kinds). Every problem is collected and
 * thrown together as a PolicyError with file:line:column.
 */
export function parsePolicy(source: PolicySource, cells: readonly PlannedCell[], sources: readonly string[]): Policy {
  const counter = new LineCounter();
  const doc = parseDocument(source.text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  const issues: MatrixIssue[] = [];
  const prefix: DocPath = source.inline ? ['policy'] : [];
  const at: At = (where, message, key = false) => issues.push({ file: source.path, ...positionOf(doc, counter, where, { key }), path: formatPath(where), message });
  for (const error of doc.errors) {
    const pos = counter.linePos(error.pos[0]);
    issues.push({ file: source.path, line: pos.line, column: pos.col, path: '', message: `YAML: ${error.message.split('\n')[0]}` });
  }
  if (issues.length > 0) throw new PolicyError(issues);
  const whole = doc.toJS({ maxAliasCount: 1_000 }) as Record<string, unknown> | null;
  const raw = (source.inline ? whole?.policy : whole) as Record<string, unknown> | null | undefined;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    at(prefix, `${source.inline ? 'policy' : 'the policy file'} must be a map with required, accepted_failures, repeats and limits`);
    throw new PolicyError(issues);
  }
  for (const error of schemaErrors(POLICY_SCHEMA, raw)) reportSchemaError(error, at, prefix);
  const required = parseRequired(raw.required, [...prefix, 'required'], at, cells);
  const accepted: Acceptance[] = [];
  list(raw.accepted_failures).forEach((entry, i) => {
    const path = [...prefix, 'accepted_failures', i];
    const cellsOf = entry.cells === undefined ? undefined : compileSelector(entry.cells, [...path, 'cells'], at, cells);
    let reason: RegExp | undefined;
    try {
      reason = new RegExp(String(entry.reason ?? ''));
    } catch (error) {
      at([...path, 'reason'], `the reason is not a regular expression: ${(error as Error).message}`);
    }
    if (typeof entry.expires === 'string' && Number.isNaN(Date.parse(`${entry.expires}T00:00:00Z`))) at([...path, 'expires'], `"${entry.expires}" is not a date`);
    if (cellsOf && reason && typeof entry.tracking === 'string' && typeof entry.expires === 'string') {
      accepted.push({ index: i + 1, cells: cellsOf, reason, tracking: entry.tracking, expires: entry.expires, outcomes: (entry.outcomes as Outcome[] | undefined) ?? ['failed'] });
    }
  });
  const repeats: RepeatRule[] = [];
  list(raw.repeats).forEach((entry, i) => {
    const selector = entry.cells === undefined ? undefined : compileSelector(entry.cells, [...prefix, 'repeats', i, 'cells'], at, cells);
    if (selector && typeof entry.min === 'number') repeats.push({ cells: selector, min: entry.min });
  });
  const limits: Limit[] = [];
  (Array.isArray(raw.limits) ? (raw.limits as unknown[]) : []).forEach((entry, i) => {
    const path = [...prefix, 'limits', i];
    const object = entry && typeof entry === 'object' && !Array.isArray(entry) ? (entry as Record<string, unknown>) : undefined;
    const text = object ? object.limit : entry;
    if (typeof text !== 'string') return at(path, `limits[${i}] must be a limit ("migrate.downtime_heartbeat_ms p95 <= 300ms") or {limit, cells}`);
    const unknownKey = object && Object.keys(object).find((k) => k !== 'limit' && k !== 'cells');
    if (unknownKey) return at([...path, unknownKey], `unknown key "${unknownKey}" in limits[${i}]; known: limit, cells`, true);
    const parsed = parseLimit(text, sources);
    if (typeof parsed === 'string') return at(object ? [...path, 'limit'] : path, parsed);
    const selector = object?.cells !== undefined ? compileSelector(object.cells, [...path, 'cells'], at, cells) : undefined;
    limits.push({ ...parsed, ...(selector ? { cells: selector } : {}) });
  });
  if (issues.length > 0) throw new PolicyError(issues.sort((a, b) => a.line - b.line || a.column - b.column));
  return {
    source: source.path,
    name: source.name ?? basename(source.path),
    sha256: createHash('sha256').update(source.text).digest('hex'),
    inline: source.inline,
    ...(required ? { required } : {}),
    accepted,
    repeats,
    limits,
  };
}

function parseRequired(value: unknown, path: DocPath, at: At, cells: readonly PlannedCell[]): Policy['required'] {
  if (value === undefined || value === 'all') return undefined;
  if (!Array.isArray(value) || value.length === 0) {
    at(path, 'required must be `all` or a list of cell selectors (axis values or constraint expressions)');
    return undefined;
  }
  return value.map((entry, i) => compileSelector(entry, [...path, i], at, cells)).filter((s) => s !== undefined);
}

function list(value: unknown): Array<Record<string, unknown>> {
  return Array.isArray(value) ? value.map((v) => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {})) : [];
}
