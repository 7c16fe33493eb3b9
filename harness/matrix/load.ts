import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { compileExpression } from 'filtrex';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { projectRoot } from '../core/project-root.js';
import type { AppSpec, AxisValue, HostRef, SuiteRef, TimelineEvent } from '../model/cell.js';
import { MatrixError, type MatrixIssue } from './errors.js';
import { formatPath, positionOf, type DocPath } from './positions.js';
import { parseDuration } from './units.js';

export const DEFAULT_EVENT_KINDS = [
  'cpu-plug', 'cpu-unplug', 'mem-plug', 'mem-unplug', 'balloon', 'pause', 'clock-correct', 'migrate',
  'cpu-offline', 'cpu-online', 'memory-pressure', 'container-cpus', 'container-memory',
];
const BACKENDS = ['qemu', 'libvirt', 'local', 'ssh', 'container'];

interface RawStep {
  do: string;
  at?: string | number;
  on?: string;
  on_console?: string;
  label?: string;
  with?: Record<string, unknown>;
  repeat?: { count: number; every: string | number };
}

interface RawMatrix {
  name: string;
  app: { command: string[]; files?: string[]; expect_exit?: number; timeout?: string | number; health?: string[]; ready?: string; service?: boolean; env?: Record<string, string> };
  defaults?: Record<string, AxisValue>;
  axes?: Record<string, AxisValue[]>;
  matrix?: Record<string, AxisValue[]>;
  include?: Array<Record<string, AxisValue>>;
  exclude?: Array<Record<string, AxisValue>>;
  constraints?: string[];
  pairwise?: boolean;
  suites?: Array<string | { name: string; options?: Record<string, unknown> }>;
  scenarios?: Record<string, RawStep[]>;
  timeout?: string | number;
  retries?: number;
  snapshot?: boolean;
  hosts?: Array<{ name: string; address: string; port?: number; user?: string; key?: string; agent?: boolean; known_hosts?: string | boolean; labels?: string[]; slots?: number }>;
}

/** A validated matrix, with everything resolved that does not depend on the cell. */
export interface MatrixDoc {
  name: string;
  app: AppSpec;
  defaults: Record<string, AxisValue>;
  axes: Record<string, AxisValue[]>;
  include: Array<Record<string, AxisValue>>;
  exclude: Array<Record<string, AxisValue>>;
  constraints: string[];
  pairwise: boolean;
  suites: SuiteRef[];
  scenarios: Record<string, TimelineEvent[]>;
  timeoutMs: number;
  retries: number;
  snapshot: boolean;
  hosts: HostRef[];
}

export interface MatrixFile {
  path: string;
  /** sha256 of the file's bytes */
  hash: string;
  name: string;
  doc: MatrixDoc;
}

export interface LoadOptions {
  knownEventKinds?: readonly string[];
}

let validator: ReturnType<Ajv['compile']> | undefined;
function validate(value: unknown): ErrorObject[] {
  if (!validator) {
    const schema = JSON.parse(readFileSync(join(projectRoot(), 'matrices', 'schema.json'), 'utf8')) as object;
    validator = new Ajv({ allErrors: true, strict: false }).compile(schema);
  }
  return validator(value) ? [] : [...(validator.errors ?? [])];
}

export async function loadMatrix(path: string, options: LoadOptions = {}): Promise<MatrixFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new MatrixError([{ file: path, line: 1, column: 1, path: '', message: `cannot read the matrix file: ${(error as NodeJS.ErrnoException).code ?? String(error)}` }]);
  }
  return parseMatrix(text, path, options);
}

/** Parse and validate; every problem is collected and reported with its file:line:column. */
export function parseMatrix(text: string, path: string, options: LoadOptions = {}): MatrixFile {
  const file = resolve(path);
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  const issues: MatrixIssue[] = [];
  const at = (where: DocPath, message: string, key = false): void => {
    issues.push({ file, ...positionOf(doc, counter, where, { key }), path: formatPath(where), message });
  };
  for (const error of doc.errors) {
    const pos = counter.linePos(error.pos[0]);
    issues.push({ file, line: pos.line, column: pos.col, path: '', message: `YAML: ${error.message.split('\n')[0]}` });
  }
  if (issues.length > 0) throw new MatrixError(issues);
  const raw = doc.toJS() as RawMatrix | null;
  if (raw === null || typeof raw !== 'object') throw new MatrixError([{ file, line: 1, column: 1, path: '', message: 'the matrix file is empty: it needs at least `name` and `app`' }]);
  for (const error of validate(raw)) reportSchemaError(error, at);
  // Semantic checks run even after schema errors, so one pass reports every problem.
  try {
    checkSemantics(raw, doc, at, options);
  } catch (error) {
    if (issues.length === 0) throw error;
  }
  if (issues.length > 0) throw new MatrixError(sortIssues(issues));
  return { path: file, hash: createHash('sha256').update(text).digest('hex'), name: raw.name, doc: normalise(raw, dirname(file)) };
}

function reportSchemaError(error: ErrorObject, at: (path: DocPath, message: string, key?: boolean) => void): void {
  const path: DocPath = error.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  const where = formatPath(path) || 'the top level';
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = (error.params as { additionalProperty: string }).additionalProperty;
      at([...path, key], `unknown key "${key}" in ${where}`, true);
      return;
    }
    case 'required':
      at(path, `${where} needs "${(error.params as { missingProperty: string }).missingProperty}"`);
      return;
    case 'type':
      at(path, `${where} must be ${(error.params as { type: string | string[] }).type.toString().replace(',', ' or ')}`);
      return;
    case 'pattern':
      at(path, `${where} has an invalid value: ${error.parentSchema && 'description' in error.parentSchema ? String(error.parentSchema.description) : error.message ?? ''}`);
      return;
    case 'oneOf':
      at(path, `${where} must be a suite name or path, or {name, options}`);
      return;
    default:
      at(path, `${where} ${error.message ?? 'is invalid'}`);
  }
}

function checkSemantics(raw: RawMatrix, _doc: Document, at: (path: DocPath, message: string, key?: boolean) => void, options: LoadOptions): void {
  const kinds = options.knownEventKinds ?? DEFAULT_EVENT_KINDS;
  const axesKey = raw.axes ? 'axes' : 'matrix';
  const axes = raw.axes ?? raw.matrix ?? {};
  if (raw.axes && raw.matrix) at(['matrix'], 'use either `axes` or `matrix`, not both', true);
  const scenarios = raw.scenarios ?? {};
  const hostNames = new Set((raw.hosts ?? []).flatMap((h) => [h.name, ...(h.labels ?? [])]));
  const checkValue = (path: DocPath, axis: string, value: AxisValue): void => {
    if (axis === 'events' && value !== 'none' && !(String(value) in scenarios)) {
      at(path, `events value "${value}" names no scenario; scenarios: ${Object.keys(scenarios).join(', ') || '(none defined)'}`);
    }
    if (axis === 'backend' && !BACKENDS.includes(String(value))) at(path, `backend "${value}" is not one of ${BACKENDS.join(', ')}`);
    if (axis === 'host' && !hostNames.has(String(value))) at(path, `host "${value}" is neither a name nor a label in \`hosts\``);
    if ((axis === 'vcpus' || axis === 'maxvcpus' || axis === 'slots') && !(Number.isInteger(value) && Number(value) >= 1)) {
      at(path, `${axis} must be a whole number of at least 1, not ${JSON.stringify(value)}`);
    }
    if ((axis === 'memory' || axis === 'maxmem') && !/^\d+(\.\d+)?([KMGT]i?B?)?$/i.test(String(value))) {
      at(path, `${axis} "${value}" is not a size (use 512M, 1G)`);
    }
    if (axis === 'accel' && !['auto', 'kvm', 'tcg'].includes(String(value))) at(path, `accel "${value}" is not auto, kvm or tcg`);
  };
  for (const [axis, values] of Object.entries(axes)) if (Array.isArray(values)) values.forEach((v, i) => checkValue([axesKey, axis, i], axis, v));
  for (const [axis, value] of Object.entries(raw.defaults ?? {})) checkValue(['defaults', axis], axis, value);
  for (const list of ['include', 'exclude'] as const) {
    (raw[list] ?? []).forEach((entry, i) => {
      for (const [axis, value] of Object.entries(entry)) checkValue([list, i, axis], axis, value);
    });
  }
  for (const [name, steps] of Object.entries(scenarios)) {
    if (!Array.isArray(steps)) continue;
    steps.forEach((step, i) => {
      const here: DocPath = ['scenarios', name, i];
      if (!kinds.includes(step.do)) at([...here, 'do'], `unknown event kind "${step.do}"; known kinds: ${kinds.join(', ')}`);
      const triggers = ['at', 'on', 'on_console'].filter((t) => t in step);
      if (triggers.length !== 1) at(here, `a step needs exactly one trigger: at (a time offset), on (an app output pattern) or on_console`);
      for (const key of ['on', 'on_console'] as const) {
        if (step[key] !== undefined) checkRegex([...here, key], step[key], at);
      }
    });
  }
  (Array.isArray(raw.constraints) ? raw.constraints : []).forEach((expression, i) => {
    if (typeof expression !== 'string') return;
    try {
      compileExpression(expression);
    } catch (error) {
      at(['constraints', i], `constraint does not parse: ${(error as Error).message.split('\n').at(-1)}`);
    }
  });
  if (typeof raw.app?.ready === 'string') checkRegex(['app', 'ready'], raw.app.ready, at);
}

function checkRegex(path: DocPath, pattern: string, at: (path: DocPath, message: string) => void): void {
  try {
    new RegExp(pattern);
  } catch (error) {
    at(path, `not a valid regular expression: ${(error as Error).message}`);
  }
}

function normalise(raw: RawMatrix, baseDir: string): MatrixDoc {
  const scenarios: Record<string, TimelineEvent[]> = { none: [] };
  for (const [name, steps] of Object.entries(raw.scenarios ?? {})) scenarios[name] = steps.map(toTimelineEvent);
  return {
    name: raw.name,
    app: {
      command: raw.app.command,
      files: (raw.app.files ?? []).map((f) => (f.startsWith('@tools/') || isAbsolute(f) ? f : resolve(baseDir, f))),
      expectExit: raw.app.expect_exit ?? 0,
      timeoutMs: raw.app.timeout !== undefined ? parseDuration(raw.app.timeout) : 60_000,
      ...(raw.app.health ? { health: raw.app.health } : {}),
      ...(raw.app.ready ? { readyPattern: raw.app.ready } : {}),
      ...(raw.app.env ? { env: raw.app.env } : {}),
      ...(raw.app.service !== undefined ? { service: raw.app.service } : {}),
    },
    defaults: raw.defaults ?? {},
    axes: raw.axes ?? raw.matrix ?? {},
    include: raw.include ?? [],
    exclude: raw.exclude ?? [],
    constraints: raw.constraints ?? [],
    pairwise: raw.pairwise ?? false,
    suites: (raw.suites ?? []).map((s) => toSuiteRef(s, baseDir)),
    scenarios,
    timeoutMs: raw.timeout !== undefined ? parseDuration(raw.timeout) : 300_000,
    retries: raw.retries ?? 0,
    snapshot: raw.snapshot ?? true,
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
    })),
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
  };
}

function toSuiteRef(suite: string | { name: string; options?: Record<string, unknown> }, baseDir: string): SuiteRef {
  const name = typeof suite === 'string' ? suite : suite.name;
  const options = typeof suite === 'string' ? {} : (suite.options ?? {});
  const isPath = name.includes('/') || /\.(ts|js|mjs)$/.test(name);
  return { name: isPath ? resolve(baseDir, name) : name, options };
}

function sortIssues(issues: MatrixIssue[]): MatrixIssue[] {
  return issues.sort((a, b) => a.line - b.line || a.column - b.column);
}
