import type { CellResult } from '../model/result.js';
import type { Outcome } from '../model/outcome.js';
import { OUTCOMES } from './summary.js';

export interface Progress {
  cellStarted(id: string): void;
  cellFinished(result: CellResult): void;
  message(text: string): void;
  close(): void;
}

const COLOURS: Record<Outcome, number> = { passed: 32, failed: 31, error: 33, skipped: 90, interrupted: 35 };

/**
 * Run progress: a one-line bar on a terminal, one plain line per event in CI or when piped,
 * one JSON object per event with --json. NO_COLOR is honoured.
 */
export function createProgress(options: { total: number; mode: 'auto' | 'plain' | 'json'; stream?: NodeJS.WriteStream }): Progress {
  const stream = options.stream ?? process.stderr;
  const mode = options.mode === 'auto' ? (stream.isTTY && !process.env.CI ? 'tty' : 'plain') : options.mode;
  const colour = !process.env.NO_COLOR && mode === 'tty';
  const paint = (outcome: Outcome, text: string) => (colour ? `\x1b[${COLOURS[outcome]}m${text}\x1b[0m` : text);
  const counts = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  const running = new Set<string>();
  const started = performance.now();
  let done = 0;
  const bar = () => {
    const elapsed = (performance.now() - started) / 1000;
    const eta = done > 0 ? ((elapsed / done) * (options.total - done)).toFixed(0) : '?';
    const width = 24;
    const filled = Math.round((done / Math.max(1, options.total)) * width);
    const tallies = OUTCOMES.filter((o) => counts[o] > 0).map((o) => paint(o, `${counts[o]} ${o}`)).join(' ');
    stream.write(`\r\x1b[2K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${options.total} ${tallies} | ${running.size} running | ETA ${eta} s`);
  };
  const line = (text: string) => {
    if (mode === 'tty') stream.write('\r\x1b[2K');
    stream.write(`${text}\n`);
    if (mode === 'tty') bar();
  };
  const json = (event: Record<string, unknown>) => stream.write(`${JSON.stringify({ at: new Date().toISOString(), ...event })}\n`);
  return {
    cellStarted(id) {
      running.add(id);
      if (mode === 'json') json({ event: 'cell-started', id });
      else if (mode === 'plain') line(`cell ${id} started`);
      else bar();
    },
    cellFinished(result) {
      running.delete(result.id);
      done++;
      counts[result.outcome]++;
      if (mode === 'json') {
        json({ event: 'cell-finished', id: result.id, outcome: result.outcome, reason: result.reason, durationMs: result.durationMs });
        return;
      }
      line(`${paint(result.outcome, result.outcome.padEnd(7))} ${result.id} in ${(result.durationMs / 1000).toFixed(1)} s${result.reason ? ` — ${result.reason}` : ''}`);
    },
    message(text) {
      if (mode === 'json') json({ event: 'message', text });
      else line(text);
    },
    close() {
      if (mode === 'tty') stream.write('\r\x1b[2K');
    },
  };
}
