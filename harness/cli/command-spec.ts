import { parseArgs } from 'node:util';

/** One option: node's parseArgs config plus what --help says about it. */
export type OptionSpec = {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  default?: string | boolean | string[];
  description: string;
  /** Placeholder in the usage line, e.g. N or DIR. */
  value?: string;
};

export interface CommandSpec<O extends Record<string, OptionSpec> = Record<string, OptionSpec>> {
  name: string;
  summary: string;
  /** Positional arguments as the usage line shows them, e.g. "FILE" or "DIR...". */
  args: string;
  options: O;
  examples: string[];
}

/**
 * One definition per command gives both its --help and its parser, so usage text cannot drift from
 * what is parsed. node's parseArgs stays the parser (strict, typed, ERR_PARSE_ARGS_* codes the CLI
 * maps to exit 2); a dependency such as commander would own exit codes and error text instead.
 */
export function defineCommand<const O extends Record<string, OptionSpec>>(spec: CommandSpec<O>): CommandSpec<O> {
  return spec;
}

/** The usage line alone: what a missing argument prints. */
export function usageLine(spec: CommandSpec): string {
  const flags = Object.entries(spec.options).map(([name, o]) => `[--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}]${o.multiple ? '...' : ''}`);
  return ['usage: bothworlds', spec.name, ...flags, spec.args].filter(Boolean).join(' ');
}

export function helpText(spec: CommandSpec): string {
  const rows = Object.entries(spec.options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
    const extra = [o.multiple ? 'repeatable' : '', o.default !== undefined && o.default !== false && !(Array.isArray(o.default) && o.default.length === 0) ? `default ${String(o.default)}` : '']
      .filter(Boolean)
      .join(', ');
    return [flag, `${o.description}${extra ? ` (${extra})` : ''}`] as const;
  });
  rows.push(['-h, --help', 'show this help']);
  const width = Math.max(...rows.map(([flag]) => flag.length));
  return [
    usageLine(spec),
    '',
    spec.summary,
    '',
    'options:',
    ...rows.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`),
    '',
    spec.examples.length > 1 ? 'examples:' : 'example:',
    ...spec.examples.map((e) => `  ${e}`),
    '',
  ].join('\n');
}

/** --help or -h before a `--`: asked even when other arguments are wrong. */
export function wantsHelp(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

type ValueOf<T extends OptionSpec> = T['type'] extends 'boolean' ? (T['multiple'] extends true ? boolean[] : boolean) : T['multiple'] extends true ? string[] : string;

export interface ParsedCommand<O extends Record<string, OptionSpec>> {
  values: { [K in keyof O]?: ValueOf<O[K]> };
  positionals: string[];
}

/** Parse `args` by `spec`; undefined when --help was asked (the help is printed to stdout). */
export function parseCommand<const O extends Record<string, OptionSpec>>(spec: CommandSpec<O>, args: string[]): ParsedCommand<O> | undefined {
  if (wantsHelp(args)) {
    process.stdout.write(helpText(spec));
    return undefined;
  }
  const options = Object.fromEntries(Object.entries(spec.options).map(([name, { description: _d, value: _v, ...config }]) => [name, config]));
  return parseArgs({ args, allowPositionals: true, strict: true, options }) as ParsedCommand<O>;
}
