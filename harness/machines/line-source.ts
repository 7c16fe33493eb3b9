import { EventEmitter } from 'node:events';
import type { ConsoleLine } from '../model/result.js';
import type { LineSource } from './machine.js';
import { DeadlineError } from '../core/errors.js';

const MAX_LINES = 5_000;

/**
 * Timestamped lines from a machine (console, app output, heartbeat). Keeps a bounded history so
 * a wait can match a line that arrived before it was called, and reports the last line on timeout.
 */
export class LineBuffer extends EventEmitter implements LineSource {
  private readonly history: ConsoleLine[] = [];
  private readonly partial = new Map<ConsoleLine['source'], string>();
  dropped = 0;

  constructor(readonly origin: number = performance.now()) {
    super();
    this.setMaxListeners(100);
  }

  get lines(): readonly ConsoleLine[] {
    return this.history;
  }

  /** Feed raw bytes/text; complete lines are timestamped on arrival. */
  feed(source: ConsoleLine['source'], chunk: string | Buffer): void {
    const text = (this.partial.get(source) ?? '') + chunk.toString();
    const parts = text.split(/\r?\n/);
    this.partial.set(source, parts.pop() ?? '');
    for (const part of parts) this.push(source, part);
  }

  /** Flush a trailing partial line (at process exit). */
  flush(source: ConsoleLine['source']): void {
    const rest = this.partial.get(source);
    if (rest) this.push(source, rest);
    this.partial.delete(source);
  }

  push(source: ConsoleLine['source'], text: string, at: number = performance.now()): ConsoleLine {
    const line: ConsoleLine = { t: Math.round((at - this.origin) * 1000) / 1000, source, text: text.replace(/\r$/, '') };
    // Heartbeat lines are many (every few ms): they are emitted but not kept in history.
    if (source !== 'heartbeat') {
      this.history.push(line);
      if (this.history.length > MAX_LINES) {
        this.history.shift();
        this.dropped++;
      }
    }
    this.emit('line', line);
    return line;
  }

  lastLine(source?: ConsoleLine['source']): ConsoleLine | undefined {
    for (let i = this.history.length - 1; i >= 0; i--) {
      const line = this.history[i]!;
      if (!source || line.source === source) return line;
    }
    return undefined;
  }

  waitForLine(pattern: RegExp, timeoutMs: number, source?: ConsoleLine['source']): Promise<ConsoleLine> {
    const matches = (line: ConsoleLine): boolean => (!source || line.source === source) && pattern.test(line.text);
    const seen = this.history.find(matches);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const onLine = (line: ConsoleLine): void => {
        if (!matches(line)) return;
        cleanup();
        resolve(line);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new DeadlineError(`a ${source ?? 'output'} line matching ${pattern}`, timeoutMs, this.lastLine(source)?.text));
      }, timeoutMs);
      timer.unref();
      const cleanup = (): void => {
        clearTimeout(timer);
        this.off('line', onLine);
      };
      this.on('line', onLine);
    });
  }
}
