/**
 * A user suite: does the application run at least one worker thread per online CPU?
 *
 * In your own repository this file imports from the package (`import { defineSuite } from
 * 'bothworlds'`); here it imports the same API from the source tree. Reference it from a matrix
 * by a path relative to the matrix file:
 *
 *   suites:
 *     - {name: ./suites/thread-count.ts, options: {probe: [my-app, --count-threads], extraThreads: 1}}
 *
 * Options:
 * - `probe`: argv run on the machine that prints the application's thread count. Default: the
 *   `Threads:` line of /proc/<pid>/status of the newest process named `process`.
 * - `process`: the application's process name (default: the first word of the app's command).
 * - `extraThreads`: threads that are not workers (main thread, listeners), default 1.
 *
 * `optionsSchema` declares them: a matrix giving `extraThread: 2` or `extraThreads: one` stops at
 * load with file:line:column, before any VM starts.
 */
import { defineSuite, type SuiteContext } from '../../harness/index.js';

async function readNumber(context: SuiteContext, argv: string[], what: string): Promise<number> {
  const result = await context.machine.exec(argv, { timeoutMs: 15_000 });
  const value = Number(result.stdout.trim().split(/\s+/)[0]);
  if (result.exitCode !== 0 || result.stdout.trim() === '' || !Number.isInteger(value)) {
    throw new Error(`cannot read ${what}: ${argv.join(' ')} exited ${result.exitCode} printing ${JSON.stringify(result.stdout + result.stderr)}`);
  }
  return value;
}

export default defineSuite({
  name: 'thread-count',
  description: "the application's worker threads against the machine's online CPUs",
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      probe: { type: 'array', items: { type: 'string' }, minItems: 1 },
      process: { type: 'string' },
      extraThreads: { type: 'integer', minimum: 0 },
    },
  },
  needs: { runningApp: true },
  async check(context) {
    const name = typeof context.options.process === 'string' ? context.options.process : (context.cell.app.command[0] ?? '').split('/').pop()!;
    const extra = typeof context.options.extraThreads === 'number' ? context.options.extraThreads : 1;
    const probe = Array.isArray(context.options.probe)
      ? context.options.probe.map(String)
      : ['sh', '-c', 'pid=$(pidof "$0" | tr " " "\\n" | sort -n | tail -1) && grep "^Threads:" /proc/$pid/status | tr -dc 0-9', name];
    // The same commands work in a guest, over SSH and on this host: /proc and pidof are everywhere.
    const [threads, cpus] = await Promise.all([
      readNumber(context, probe, `the thread count of ${name}`),
      readNumber(context, ['sh', '-c', 'grep -c ^processor /proc/cpuinfo'], 'the online CPUs'),
    ]);
    const workers = threads - extra;
    context.metric('app_threads', threads, 'count');
    context.metric('online_cpus', cpus, 'count');
    context.check(
      'a worker per CPU',
      workers >= cpus,
      `${name} runs ${workers} worker threads (${threads} minus ${extra}) on ${cpus} online CPUs${workers < cpus ? `: ${cpus - workers} CPU(s) left idle` : ''}`,
    );
  },
});
