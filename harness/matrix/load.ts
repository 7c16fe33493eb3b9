import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { compileExpression } from 'filtrex';
import { LineCounter, parseDocument, visit, type Document } from 'yaml';
import type { AppSpec, ArtifactSpec, AxisValue, EvidencePolicy, HostRef, QuarantineEntry, SuiteRef, TimelineEvent } from '../model/cell.js';
import { checkAxes } from './check-axes.js';
import { checkImage } from './check-image.js';
import { checkScenarios } from './check-events.js';
import { checkSuites, isSuitePath, userSuitePaths } from './check-suites.js';
import { MatrixError, type MatrixIssue } from './errors.js';
import { formatPath, positionOf, type DocPath } from './positions.js';
import type { At, CheckContext, LoadOptions, RawMatrix, RawStep, SuiteInfo } from './raw.js';
import { matrixSchemaErrors, reportSchemaError } from './schema-errors.js';
import { parseDuration, parseSizeBytes } from './units.js';

export { DEFAULT_EVENT_KINDS } from './check-events.js';
export type { LoadOptions, SuiteInfo, EventValidator } from './raw.js';

/** Aliases a document may expand: a few hundred is plenty for anchors in a matrix; a "billion laughs" file needs millions. */
const MAX_ALIAS_COUNT = 1_000;

/** A validated matrix, with everything resolved that does not depend on the cell. */
export interface MatrixDoc {
  name: string;
  app: AppSpec;
  defaults: Record<string, AxisValue>;
  axes: Record<string, AxisValue[]>;
  /** Axes declared as the user's own (`user_axes`). */
  userAxes: string[];
  include: Array<Record<string, AxisValue>>;
  exclude: Array<Record<string, AxisValue>>;
  constraints: string[];
  pairwise: boolean;
  suites: SuiteRef[];
  scenarios: Record<string, TimelineEvent[]>;
  timeoutMs: number;
  retries: number;
  artifacts?: ArtifactSpec;
  snapshot: boolean;
  evidence?: EvidencePolicy;
  repeat: number;
  quarantine: QuarantineEntry[];
  hosts: HostRef[];
}

export interface MatrixFile {
  path: string;
  /** sha256 of the file's bytes */
  hash: string;
  name: string;
  doc: MatrixDoc;
  /** The 1-based line and column of a place in the file, for errors found after loading (at expansion). */
  locate?(path: DocPath, options?: { key?: boolean }): { line: number; column: number };
}

export async function loadMatrix(path: string, options: LoadOptions = {}): Promise<MatrixFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new MatrixError([{ file: resolve(path), line: 1, column: 1, path: '', message: `cannot read the matrix file: ${(error as NodeJS.ErrnoException).code ?? String(error)}` }]);
  }
  // User suite modules are imported first (async), so the one checking pass can validate their options.
  const userSuites = new Map<string, SuiteInfo | Error>();
  if (options.suites) {
    const loadUser = options.suites.loadUser;
    const paths = userSuitePaths(peek(text), dirname(resolve(path)));
    await Promise.all(paths.map(async (p) => userSuites.set(p, await loadUser(p).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))))));
  }
  return parseMatrix(text, path, options, userSuites);
}

/** The document as plain data, or null when it does not even parse (parseMatrix reports why). */
function peek(text: string): RawMatrix | null {
  try {
    const doc = parseDocument(text);
    return doc.errors.length > 0 ? null : (doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as RawMatrix | null);
  } catch {
    return null;
  }
}

/** Parse and validate; every problem is collected and reported with its file:line:column. */
export function parseMatrix(text: string, path: string, options: LoadOptions = {}, userSuites: ReadonlyMap<string, SuiteInfo | Error> = new Map()): MatrixFile {
  const file = resolve(path);
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  const issues: MatrixIssue[] = [];
  const at: At = (where, message, key = false) => {
    issues.push({ file, ...positionOf(doc, counter, where, { key }), path: formatPath(where), message });
  };
  for (const error of doc.errors) {
    const pos = counter.linePos(error.pos[0]);
    issues.push({ file, line: pos.line, column: pos.col, path: '', message: `YAML: ${error.message.split('\n')[0]}` });
  }
  if (issues.length > 0) throw new MatrixError(issues);
  const raw = toPlainData(doc, counter, file);
  if (raw === null || typeof raw !== 'object') throw new MatrixError([{ file, line: 1, column: 1, path: '', message: 'the matrix file is empty: it needs at least `name` and `app`' }]);
  for (const error of matrixSchemaErrors(raw)) reportSchemaError(error, at);
  // Semantic checks run even after schema errors, so one pass reports every problem.
  const context: CheckContext = { raw, at, baseDir: dirname(file), options, userSuites };
  for (const check of [checkAxes, checkScenarios, checkSuites, checkApp, checkImage, checkConstraints]) {
    try {
      check(context);
    } catch (error) {
      // A check tripping over a shape the schema already reported is not a second problem.
      if (issues.length === 0) throw error;
    }
  }
  if (issues.length > 0) throw new MatrixError(sortIssues(issues));
  return {
    path: file,
    hash: createHash('sha256').update(text).digest('hex'),
    name: raw.name,
    doc: normalise(raw, dirname(file)),
    locate: (where, locateOptions = {}) => positionOf(doc, counter, where, locateOptions),
  };
}

/** The document as plain data; an alias bomb (billion laughs) is a matrix error naming the file, not a crash. */
function toPlainData(doc: Document, counter: LineCounter, file: string): RawMatrix | null {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as RawMatrix | null;
  } catch (error) {
    // Point at the first alias: where the expansion starts.
    let offset = 0;
    visit(doc, {
      Alias(_key, node) {
        offset = node.range?.[0] ?? 0;
        return visit.BREAK;
      },
    });
    const { line, col } = counter.linePos(offset);
    throw new MatrixError([{ file, line, column: col, path: '', message: `YAML: ${(error as Error).message} (more than ${MAX_ALIAS_COUNT} alias expansions; a matrix needs a handful)` }]);
  }
}

function checkApp({ raw, at, baseDir }: CheckContext): void {
  const files = Array.isArray(raw.app?.files) ? raw.app.files : [];
  files.forEach((name, i) => {
    if (typeof name !== 'string' || name.startsWith('@tools/')) return;
    const path = resolve(baseDir, name);
    if (!existsSync(path)) at(['app', 'files', i], `app file "${name}" does not exist (looked for ${path}; relative paths are relative to the matrix file)`);
  });
}

function checkConstraints({ raw, at }: CheckContext): void {
  (Array.isArray(raw.constraints) ? raw.constraints : []).forEach((expression, i) => {
    if (typeof expression !== 'string') return;
    try {
      compileExpression(expression);
    } catch (error) {
      at(['constraints', i], `constraint does not parse: ${(error as Error).message.split('\n').at(-1)}`);
    }
  });
}

function normalise(raw: RawMatrix, baseDir: string): MatrixDoc {
  const scenarios: Record<string, TimelineEvent[]> = { none: [] };
  for (const [name, steps] of Object.entries(raw.scenarios ?? {})) scenarios[name] = steps.map(toTimelineEvent);
  return {
    name: raw.name,
    app: {
      // A systemd unit needs no command: the harness starts it with systemctl (harness/run/systemd-unit.ts).
      command: raw.app.command ?? [],
      files: (raw.app.files ?? []).map((f) => (f.startsWith('@tools/') || isAbsolute(f) ? f : resolve(baseDir, f))),
      expectExit: raw.app.expect_exit ?? 0,
      timeoutMs: raw.app.timeout !== undefined ? parseDuration(raw.app.timeout) : 60_000,
      ...(raw.app.health ? { health: raw.app.health } : {}),
      ...(raw.app.ports ? { ports: raw.app.ports } : {}),
      ...(raw.app.load ? { load: raw.app.load } : {}),
      ...(raw.app.ready ? { readyPattern: raw.app.ready } : {}),
      ...(raw.app.env ? { env: raw.app.env } : {}),
      ...(raw.app.service !== undefined ? { service: raw.app.service } : {}),
      ...(raw.app.packages ? { packages: raw.app.packages } : {}),
      ...(raw.app.unit !== undefined ? { unit: raw.app.unit, service: true } : {}),
    },
    defaults: raw.defaults ?? {},
    axes: raw.axes ?? raw.matrix ?? {},
    userAxes: raw.user_axes ?? [],
    include: raw.include ?? [],
    exclude: raw.exclude ?? [],
    constraints: raw.constraints ?? [],
    pairwise: raw.pairwise ?? false,
    suites: (raw.suites ?? []).map((s) => toSuiteRef(s, baseDir)),
    scenarios,
    timeoutMs: raw.timeout !== undefined ? parseDuration(raw.timeout) : 300_000,
    retries: raw.retries ?? 0,
    snapshot: raw.snapshot ?? true,
    ...(raw.evidence ? { evidence: raw.evidence } : {}),
    repeat: raw.repeat ?? 1,
    quarantine: raw.quarantine ?? [],
    ...(raw.artifacts ? { artifacts: toArtifactSpec(raw.artifacts) } : {}),
    hosts: (raw.hosts ?? []).map((h) => ({
      name: h.name,
      address: h.address,
      port: h.port ?? 22,
      user: h.user ?? 'root',
      ...(h.key ? { keyPath: h.key.replace(/^~(?=\/)/, process.env.HOME ?? '~') } : {}),
      ...(h.agent ? { useAgent: true } : {}),
      ...(h.known_hosts === false ? { knownHosts: false as const } : typeof h.known_hosts === 'string' ? { knownHosts: h.known_hosts } : {}),
      labels: h.labels ?? [],
      slots: h.slots ?? 1,
      ...(h.libvirt ? { libvirt: h.libvirt } : {}),
    })),
  };
}

function toArtifactSpec(raw: NonNullable<RawMatrix['artifacts']>): ArtifactSpec {
  const spec = Array.isArray(raw) ? { paths: raw } : raw;
  return {
    patterns: spec.paths,
    when: spec.when ?? 'failure',
    maxFileBytes: spec.max_file_size !== undefined ? parseSizeBytes(spec.max_file_size) : 1024 * 1024,
    maxTotalBytes: spec.max_total_size !== undefined ? parseSizeBytes(spec.max_total_size) : 8 * 1024 * 1024,
  };
}

function toTimelineEvent(step: RawStep): TimelineEvent {
  const trigger: TimelineEvent['trigger'] =
    step.at !== undefined
      ? { kind: 'at', afterMs: parseDuration(step.at) }
      : { kind: 'line', pattern: step.on ?? step.on_console ?? '', source: step.on !== undefined ? 'app' : 'console' };
  return {
    kind: step.do,
    ...(step.label ? { label: step.label } : {}),
    trigger,
    ...(step.repeat ? { repeat: { count: step.repeat.count, everyMs: parseDuration(step.repeat.every) } } : {}),
    params: step.with ?? {},
    ...(step.optional ? { optional: true } : {}),
  };
}

function toSuiteRef(suite: string | { name: string; options?: Record<string, unknown> }, baseDir: string): SuiteRef {
  const name = typeof suite === 'string' ? suite : suite.name;
  const options = typeof suite === 'string' ? {} : (suite.options ?? {});
  return { name: isSuitePath(name) ? resolve(baseDir, name) : name, options };
}

function sortIssues(issues: MatrixIssue[]): MatrixIssue[] {
  return issues.sort((a, b) => a.line - b.line || a.column - b.column);
}
