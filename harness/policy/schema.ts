/**
 * The shape of a qualification policy (`policy:` in a matrix, or a file given with --policy).
 * Selectors and limits are checked by hand after this (selector.ts, limits.ts): their messages
 * name the axis or metric, which a JSON schema's anyOf cannot.
 */
export const POLICY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    description: { type: 'string' },
    required: { description: '`all` (the default), or a list of cell selectors: axis values or a constraint expression.' },
    accepted_failures: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['cells', 'reason', 'tracking', 'expires'],
        properties: {
          cells: { description: 'The cells this acceptance covers: axis values or a constraint expression.' },
          reason: { type: 'string', minLength: 1, description: 'A regular expression the cell\'s reason must match.' },
          tracking: { type: 'string', pattern: '^https?://\\S+$', description: 'an http(s) URL of the issue that tracks the failure' },
          expires: { type: 'string', pattern: '^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])$', description: 'a date YYYY-MM-DD (quote it in YAML): the last day the acceptance holds' },
          outcomes: { type: 'array', minItems: 1, items: { enum: ['failed', 'flaky', 'error', 'incomplete', 'skipped'] } },
        },
      },
    },
    repeats: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['cells', 'min'],
        properties: { cells: {}, min: { type: 'integer', minimum: 2, maximum: 1000, description: 'runs of each of these cells' } },
      },
    },
    limits: { type: 'array', items: {} },
  },
} as const;
