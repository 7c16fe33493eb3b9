import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BothworldsError, describeError } from '../core/errors.js';
import { projectRoot } from '../core/project-root.js';
import { EXIT } from './exit-codes.js';
import { sweepStaleTempDirs } from '../core/temp-dir.js';
import { SPECS, type CommandName } from './specs.js';
import { helpText, usageLine, wantsHelp } from './command-spec.js';

type Command = (args: string[]) => Promise<number>;

/** Loaded on demand: `bothworlds list` need not import the runner. */
const COMMANDS: Record<CommandName, () => Promise<Command>> = {
  run: async () => (await import('./commands/run.js')).runCommand,
  list: async () => (await import('./commands/list.js')).listCommand,
  matrix: async () => (await import('./commands/matrix.js')).matrixCommand,
  merge: async () => (await import('./commands/merge.js')).mergeCommand,
  compare: async () => (await import('./commands/compare.js')).compareCommand,
  report: async () => (await import('./commands/report.js')).reportCommand,
  boot: async () => (await import('./commands/boot.js')).bootCommand,
  doctor: async () => (await import('./commands/doctor.js')).doctorCommand,
  certify: async () => (await import('./commands/certify.js')).certifyCommand,
  verify: async () => (await import('./commands/verify.js')).verifyCommand,
};

export function usage(): string {
  const lines = Object.values(SPECS).map((spec) => `  ${spec.name.padEnd(8)} ${firstSentence(spec.summary)}`);
  return `usage: bothworlds <command> [options]\n       bothworlds <command> --help\n       bothworlds --version\n\n${lines.join('\n')}\n`;
}

/** The overview shows each command's first sentence. */
function firstSentence(text: string): string {
  return (/^.*?\.(?=\s|$)/.exec(text)?.[0] ?? text).replace(/\.$/, '');
}

export function version(): string {
  return (JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V' || name === 'version') {
    process.stdout.write(`${version()}\n`);
    return EXIT.ok;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? EXIT.ok : EXIT.usage;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name as CommandName] : undefined;
  if (!load) {
    process.stderr.write(`bothworlds: unknown command "${name}"\n\n${usage()}`);
    return EXIT.usage;
  }
  if (wantsHelp(rest)) {
    process.stdout.write(helpText(SPECS[name as CommandName]));
    return EXIT.ok;
  }
  try {
    // Whatever a harness killed with SIGKILL left in the temp dir goes now (its QEMUs died with it).
    await sweepStaleTempDirs();
    return await (await load())(rest);
  } catch (error) {
    process.stderr.write(`bothworlds ${name}: ${describeError(error)}\n`);
    if (error instanceof BothworldsError && error.category === 'config') return EXIT.usage;
    // Unknown flags, a flag missing its value, a stray positional: node's parseArgs says which.
    if (error instanceof TypeError && (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS_')) {
      process.stderr.write(`${usageLine(SPECS[name as CommandName])}\n(bothworlds ${name} --help for more)\n`);
      return EXIT.usage;
    }
    return EXIT.infrastructure;
  }
}
