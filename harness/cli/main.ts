import { BothworldsError, describeError } from '../core/errors.js';
import { EXIT } from './exit-codes.js';
import { sweepStaleTempDirs } from '../core/temp-dir.js';

type Command = (args: string[]) => Promise<number>;

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  run: { summary: 'run a matrix file: bothworlds run FILE [--shard k/n] [--resume DIR] [--concurrency N] [--json|--plain]', load: async () => (await import('./commands/run.js')).runCommand },
  list: { summary: 'show the expanded cells and what dropped the others: bothworlds list FILE', load: async () => (await import('./commands/list.js')).listCommand },
  matrix: { summary: 'emit the shard list for a CI matrix job: bothworlds matrix FILE --format github|gitlab --shards N', load: async () => (await import('./commands/matrix.js')).matrixCommand },
  merge: { summary: 'combine shard results into one report: bothworlds merge DIR... --out DIR', load: async () => (await import('./commands/merge.js')).mergeCommand },
  compare: { summary: 'outcome changes and timing regressions: bothworlds compare OLD[,OLD...] NEW[,NEW...]', load: async () => (await import('./commands/compare.js')).compareCommand },
  report: { summary: 'rewrite the reports of a run folder from its results.jsonl: bothworlds report DIR', load: async () => (await import('./commands/report.js')).reportCommand },
  boot: { summary: 'boot a guest, run a command in it, print the result: bothworlds boot [--cpu M] [--vcpus N] [--memory MiB] [--image default|debian-12|FILE] [--package P]... [-- CMD...]', load: async () => (await import('./commands/boot.js')).bootCommand },
  doctor: { summary: 'check QEMU, KVM, the guest image, cores and memory, with advice', load: async () => (await import('./commands/doctor.js')).doctorCommand },
};

export function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`);
  return `usage: bothworlds <command> [options]\n\n${lines.join('\n')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? EXIT.ok : EXIT.usage;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`bothworlds: unknown command "${name}"\n\n${usage()}`);
    return EXIT.usage;
  }
  try {
    // Whatever a harness killed with SIGKILL left in the temp dir goes now (its QEMUs died with it).
    await sweepStaleTempDirs();
    return await (await command.load())(rest);
  } catch (error) {
    process.stderr.write(`bothworlds ${name}: ${describeError(error)}\n`);
    if (error instanceof BothworldsError && error.category === 'config') return EXIT.usage;
    // Unknown flags, a flag missing its value, a stray positional: node's parseArgs says which.
    if (error instanceof TypeError && (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS_')) return EXIT.usage;
    return EXIT.infrastructure;
  }
}
