import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { projectRoot } from '../core/project-root.js';
import { didYouMean } from './did-you-mean.js';
import { formatPath, type DocPath } from './positions.js';
import type { At } from './raw.js';

const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
let matrixValidator: ValidateFunction | undefined;
const compiled = new WeakMap<object, ValidateFunction>();

/** Errors of the matrix file against matrices/schema.json. */
export function matrixSchemaErrors(value: unknown): ErrorObject[] {
  matrixValidator ??= ajv.compile(JSON.parse(readFileSync(join(projectRoot(), 'matrices', 'schema.json'), 'utf8')) as object);
  return matrixValidator(value) ? [] : [...(matrixValidator.errors ?? [])];
}

/** Errors of a value against a JSON schema (a suite's options); each schema is compiled once. */
export function schemaErrors(schema: object, value: unknown): ErrorObject[] {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate(value) ? [] : [...(validate.errors ?? [])];
}

/** Report an ajv error at its place; `prefix` is where the validated value sits in the document. */
export function reportSchemaError(error: ErrorObject, at: At, prefix: DocPath = []): void {
  const path: DocPath = [
    ...prefix,
    ...error.instancePath
      .split('/')
      .slice(1)
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
      .map((s) => (/^\d+$/.test(s) ? Number(s) : s)),
  ];
  const where = formatPath(path) || 'the top level';
  const parent = error.parentSchema as { description?: string; properties?: Record<string, unknown> } | undefined;
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = (error.params as { additionalProperty: string }).additionalProperty;
      const known = Object.keys(parent?.properties ?? {});
      at([...path, key], `unknown key "${key}" in ${where}${didYouMean(key, known)}${prefix.length > 0 && known.length > 0 ? `; known: ${known.join(', ')}` : ''}`, true);
      return;
    }
    case 'required':
      at(path, `${where} needs "${(error.params as { missingProperty: string }).missingProperty}"`);
      return;
    case 'type':
      at(path, `${where} must be ${(error.params as { type: string | string[] }).type.toString().replace(',', ' or ')}`);
      return;
    case 'enum': {
      const allowed = (error.params as { allowedValues: unknown[] }).allowedValues.map(String);
      at(path, `${where} is ${JSON.stringify(error.data)}, not one of ${allowed.join(', ')}${didYouMean(String(error.data), allowed)}`);
      return;
    }
    case 'pattern':
      at(path, `${where} has an invalid value: ${parent?.description ?? error.message ?? ''}`);
      return;
    case 'maximum':
    case 'minimum':
      at(path, `${where} is ${JSON.stringify(error.data)}: it ${error.message ?? 'is out of range'}${parent?.description ? ` (${parent.description})` : ''}`);
      return;
    case 'oneOf':
      at(path, `${where} must be a suite name or path, or {name, options}`);
      return;
    default:
      at(path, `${where} ${error.message ?? 'is invalid'}`);
  }
}
