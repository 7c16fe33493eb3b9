import type { LineSource } from '../machines/machine.js';
import { spawnLocal, type LocalChild } from '../machines/local/local-process.js';
import type { ExecResult } from '../machines/machine.js';
import { expandArgv } from '../net/guest-ports.js';

/** Restarts allowed across migrations before a dying load generator is a failure anyway. */
const MAX_RESTARTS = 20;

export interface LoadGeneratorOptions {
  command: string[];
  env: Record<string, string>;
  /** Its output goes here as lines of source 'load'. */
  output: LineSource;
  /**
   * Whether an exit is excused: user-mode networking closes every connection across a live
   * migration (slirp migrates none of them), so a client without reconnect logic dies there. Each
   * run of the generator is excused for the migrations that overlapped it (begun since its mark).
   */
  migrations: { mark(): number; coversSince(mark: number): boolean };
}

/**
 * A load generator on the host (`redis-benchmark -p $BW_PORT_6379 ...`), started once the app is
 * ready so events happen under load. A non-zero exit fails the cell with its output tail, unless
 * it happened during a migration: then it is noted and restarted. Stopped with the application.
 */
export class LoadGenerator {
  private child: LocalChild | undefined;
  private failure: string | undefined;
  private stopping = false;
  private partial = '';
  private tail: string[] = [];
  restarts = 0;
  runs = 0;
  /** The migrations counted when this run of the generator started. */
  private launchedAt = 0;

  private constructor(private readonly options: LoadGeneratorOptions) {}

  static async start(options: LoadGeneratorOptions): Promise<LoadGenerator> {
    const load = new LoadGenerator(options);
    await load.launch();
    return load;
  }

  /** Why the load generator failed, if it did (so far). */
  get failed(): string | undefined {
    return this.failure;
  }

  /** Stop it (SIGTERM, then SIGKILL) and say why it failed, if it did. */
  async stop(): Promise<string | undefined> {
    this.stopping = true;
    await this.child?.kill('TERM').catch(() => undefined);
    this.flush();
    return this.failure;
  }

  private async launch(): Promise<void> {
    const { command, env, output } = this.options;
    const argv = expandArgv(command, env);
    this.runs++;
    this.launchedAt = this.options.migrations.mark();
    const child = await spawnLocal(argv, { env, onData: (_stream, chunk) => this.take(chunk.toString()) });
    this.child = child;
    output.push('harness', `load generator started: ${argv.join(' ')}`);
    child.exited.then(
      (result) => this.exited(result),
      (error: unknown) => output.push('harness', `load generator: ${String(error)}`),
    );
  }

  private exited(result: ExecResult): void {
    this.flush();
    if (this.stopping) return;
    const { output } = this.options;
    const how = result.signal ? `signal ${result.signal}` : `code ${result.exitCode}`;
    if (result.exitCode === 0) {
      output.push('harness', 'load generator finished (exit code 0)');
      return;
    }
    if (this.options.migrations.coversSince(this.launchedAt) && this.restarts < MAX_RESTARTS) {
      this.restarts++;
      output.push('harness', `load generator exited with ${how} during a live migration (user-mode networking closes open connections); restarted`);
      this.launch().catch((error: Error) => (this.failure = `the load generator could not be restarted: ${error.message}`));
      return;
    }
    const tail = this.tail.slice(-5).join(' | ');
    this.failure = `the load generator ${this.options.command[0]} exited with ${how}${tail ? `: ${tail}` : ''}`;
    output.push('harness', this.failure);
  }

  /** redis-benchmark redraws a progress line with \r: keep each update as a line, bounded. */
  private take(text: string): void {
    const parts = (this.partial + text).split(/\r\n|\r|\n/);
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.line(line);
    if (this.partial.length > 4096) this.flush();
  }

  private flush(): void {
    if (this.partial) this.line(this.partial);
    this.partial = '';
  }

  private line(text: string): void {
    const trimmed = text.trim();
    if (!trimmed) return;
    this.tail.push(trimmed);
    if (this.tail.length > 20) this.tail.shift();
    this.options.output.push('load', trimmed);
  }
}
