/** Building blocks for a suite's `optionsSchema` (JSON schema, draft-07). */

export const durationOption = (description: string): object => ({
  description: `${description} A duration: 500ms, 2s (a bare number is milliseconds).`,
  type: ['string', 'number'],
  pattern: '^[0-9]+(\\.[0-9]+)?(ms|s|m|h)?$',
  minimum: 0,
});

export const sizeOption = (description: string): object => ({
  description: `${description} A size: 128M, 1G.`,
  type: ['string', 'number'],
  pattern: '^[0-9]+(\\.[0-9]+)?([KMGT]i?B?)?$',
  exclusiveMinimum: 0,
});

export const millisecondsOption = (description: string): object => ({ description, type: 'number', minimum: 0 });

export const enumOption = (description: string, values: readonly string[]): object => ({ description, enum: [...values] });

export const argvOption = (description: string): object => ({ description, type: 'array', items: { type: 'string' }, minItems: 1 });

/** An options object that accepts exactly these properties: any other name is a typo, reported with "did you mean". */
export function optionsSchema(properties: Record<string, object>, required: string[] = []): object {
  return { type: 'object', additionalProperties: false, properties, ...(required.length > 0 ? { required } : {}) };
}
