import type { CellResult } from '../model/result.js';
import type { Outcome } from '../model/outcome.js';
import { OUTCOMES } from './summary.js';
import { neutralise } from './neutralise.js';

export interface Progress {
  cellStarted(id: string): void;
  cellFinished(result: CellResult): void;
  message(text: string): void;
  close(): void;
}

export interface ProgressOptions {
  total: number;
  mode: 'auto' | 'plain' | 'json';
  stream?: NodeJS.WriteStream;
  /** Defaults to process.env; tests pass their own. */
  env?: NodeJS.ProcessEnv;
}

const COLOURS: Record<Outcome, number> = { passed: 32, failed: 31, flaky: 91, error: 33, incomplete: 36, skipped: 90, interrupted: 35 };

/** CI=true (GitHub, GitLab, most others) means a log, not a terminal, even when a pseudo-TTY is attached. */
function inCi(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.CI) && env.CI !== 'false' && env.CI !== '0';
}

/**
 * Run progress: a one-line bar on a terminal (counts by outcome, running cells, ETA), one plain
 * line per event in CI or when piped, one JSON object per event with --json. NO_COLOR is honoured.
 */
export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const env = options.env ?? process.env;
  const mode = options.mode === 'auto' ? (stream.isTTY && !inCi(env) ? 'tty' : 'plain') : options.mode;
  const colour = mode !== 'json' && Boolean(stream.isTTY) && !inCi(env) && !env.NO_COLOR;
  // Cell ids, reasons and messages can carry application output: never raw to a terminal or CI log.
  const safe = (text: string) => neutralise(text, { ci: inCi(env) });
  const paint = (outcome: Outcome, text: string) => (colour ? `\x1b[${COLOURS[outcome]}m${text}\x1b[0m` : text);
  const counts = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  const running = new Map<string, number>();
  const started = performance.now();
  let done = 0;
  let closed = false;

  const tallies = (painted: boolean) => OUTCOMES.filter((o) => counts[o] > 0).map((o) => (painted ? paint(o, `${counts[o]} ${o}`) : `${counts[o]} ${o}`)).join(', ');
  const bar = () => {
    if (closed) return;
    const elapsed = (performance.now() - started) / 1000;
    const eta = done > 0 && done < options.total ? `ETA ${clock((elapsed / done) * (options.total - done))}` : '';
    const width = 20;
    const filled = Math.round((Math.min(done, options.total) / Math.max(1, options.total)) * width);
    const names = [...running.keys()].map(safe);
    const now = names.length ? `running ${names.length}: ${names.slice(0, 2).join(', ')}${names.length > 2 ? ', …' : ''}` : '';
    const plain = [`[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${options.total}`, tallies(false), now, clock(elapsed), eta].filter(Boolean).join(' | ');
    // Wider than the terminal would wrap and break the carriage return: cut the plain text, then colour it.
    const columns = stream.columns || 100;
    const shown = plain.length > columns - 1 ? `${plain.slice(0, columns - 2)}…` : plain;
    stream.write(`\r\x1b[2K${colour ? shown.replace(tallies(false), tallies(true)) : shown}`);
  };
  const ticker = mode === 'tty' ? setInterval(bar, 1000) : undefined;
  ticker?.unref();
  const line = (text: string) => {
    if (closed) return;
    if (mode === 'tty') stream.write('\r\x1b[2K');
    stream.write(`${text}\n`);
    if (mode === 'tty') bar();
  };
  const json = (event: Record<string, unknown>) => stream.write(`${JSON.stringify({ at: new Date().toISOString(), ...event })}\n`);

  return {
    cellStarted(id) {
      running.set(id, performance.now());
      if (mode === 'json') json({ event: 'cell-started', id });
      else if (mode === 'plain') line(`cell ${safe(id)} started`);
      else bar();
    },
    cellFinished(result) {
      running.delete(result.id);
      done++;
      if (result.outcome in counts) counts[result.outcome]++;
      if (mode === 'json') {
        json({ event: 'cell-finished', id: result.id, outcome: result.outcome, ...(result.reason ? { reason: result.reason } : {}), durationMs: result.durationMs, done, total: options.total });
        return;
      }
      line(`cell ${safe(result.id)} ${paint(result.outcome, result.outcome)} in ${(result.durationMs / 1000).toFixed(1)} s${result.reason ? ` — ${safe(result.reason)}` : ''}`);
    },
    message(text) {
      if (mode === 'json') json({ event: 'message', text });
      else line(safe(text));
    },
    close() {
      if (closed) return;
      if (ticker) clearInterval(ticker);
      const elapsed = (performance.now() - started) / 1000;
      if (mode === 'json') json({ event: 'finished', done, total: options.total, counts, elapsedMs: Math.round(elapsed * 1000) });
      else line(`${done}/${options.total} cells in ${clock(elapsed)}${done ? `: ${tallies(true)}` : ''}`);
      closed = true;
    },
  };
}

/** 75 → "1m15s", 8 → "8s". */
function clock(seconds: number): string {
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
