import type { AxisValue, HealthCheck } from '../model/cell.js';
import type { DocPath } from './positions.js';
import type { KnownCpuModels } from './limits.js';

/** A scenario step as written in the matrix file. */
export interface RawStep {
  do: string;
  at?: string | number;
  on?: string;
  on_console?: string;
  label?: string;
  optional?: boolean;
  with?: Record<string, unknown>;
  repeat?: { count: number; every: string | number };
}

export type RawSuite = string | { name: string; options?: Record<string, unknown> };

/** A matrix file as written (after the JSON schema; semantic checks still to come). */
export interface RawMatrix {
  name: string;
  app: { command?: string[]; packages?: string[]; unit?: string; files?: string[]; expect_exit?: number; timeout?: string | number; health?: HealthCheck; ports?: number[]; load?: string[]; ready?: string; service?: boolean; env?: Record<string, string> };
  defaults?: Record<string, AxisValue>;
  axes?: Record<string, AxisValue[]>;
  matrix?: Record<string, AxisValue[]>;
  user_axes?: string[];
  include?: Array<Record<string, AxisValue>>;
  exclude?: Array<Record<string, AxisValue>>;
  constraints?: string[];
  pairwise?: boolean;
  suites?: RawSuite[];
  scenarios?: Record<string, RawStep[]>;
  timeout?: string | number;
  retries?: number;
  snapshot?: boolean;
  evidence?: 'failure' | 'always' | 'never';
  repeat?: number;
  quarantine?: Array<{ cells: string; reason: string; expires: string }>;
  artifacts?: string[] | { paths: string[]; when?: 'failure' | 'always'; max_file_size?: string | number; max_total_size?: string | number };
  hosts?: Array<{ name: string; address: string; port?: number; user?: string; key?: string; agent?: boolean; known_hosts?: string | boolean; labels?: string[]; slots?: number; libvirt?: string }>;
}

/** What the loader knows of an event kind: it validates `with:` (throwing an error whose `details.param` names the parameter). */
export interface EventValidator {
  validate(params: Record<string, unknown>): unknown;
}

/** What the loader knows of a suite: its name and the JSON schema of its options, if it declares one. */
export interface SuiteInfo {
  name: string;
  optionsSchema?: object;
}

export interface LoadOptions {
  /** Names accepted for `do:` when `eventKinds` is not given. */
  knownEventKinds?: readonly string[];
  /** The event kinds by name: every step's `with:` is validated by its kind at load. */
  eventKinds?: ReadonlyMap<string, EventValidator>;
  /**
   * The suites: built-in ones by name, and how to import a user's suite module (an absolute path
   * that exists). Without it suite names and options are not checked.
   */
  suites?: { builtin: Readonly<Record<string, SuiteInfo>>; loadUser(path: string): Promise<SuiteInfo> };
  /** The CPU model names the hypervisor accepts (QEMU's `-cpu help`); without it a `cpu` value is checked for its syntax only. */
  cpuModels?: KnownCpuModels;
}

/** Records a problem at a place in the document (`key`: at the key rather than its value). */
export type At = (path: DocPath, message: string, key?: boolean) => void;

export interface CheckContext {
  raw: RawMatrix;
  at: At;
  /** The folder of the matrix file: relative paths are relative to it. */
  baseDir: string;
  options: LoadOptions;
  /** User suite modules imported by loadMatrix, by absolute path (an Error when the import failed). */
  userSuites: ReadonlyMap<string, SuiteInfo | Error>;
}
