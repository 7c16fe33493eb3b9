import { EventEmitter } from 'node:events';
import { StringDecoder } from 'node:string_decoder';
import type { ConsoleLine } from '../model/result.js';
import type { LineSource } from './machine.js';
import { DeadlineError } from '../core/errors.js';

const MAX_LINES = 5_000;
/** Longest line kept (characters); the rest of a longer line is counted, not stored. */
export const MAX_LINE_CHARS = 64 * 1024;

/**
 * Bytes in, lines out, for output of any size: UTF-8 is decoded as a stream (a character split
 * across chunks stays whole), each chunk is scanned once (a long partial line is never re-split),
 * and a line longer than MAX_LINE_CHARS keeps its start plus a marker saying how much was cut —
 * so an application printing 50 MB without a newline costs 64 KiB, not gigabytes.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  private cut = 0;

  constructor(private readonly maxChars = MAX_LINE_CHARS) {}

  /** Complete lines in `chunk` (without their CR LF / LF). */
  feed(chunk: string | Buffer): string[] {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const lines: string[] = [];
    let start = 0;
    for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
      this.take(text.slice(start, end));
      lines.push(this.finish().replace(/\r$/, ''));
      start = end + 1;
    }
    this.take(text.slice(start));
    return lines;
  }

  /** The trailing partial line, if any (at process exit). */
  flush(): string | undefined {
    this.take(this.decoder.end());
    if (this.partial === '' && this.cut === 0) return undefined;
    return this.finish().replace(/\r$/, '');
  }

  private take(piece: string): void {
    const room = this.maxChars - this.partial.length;
    if (piece.length <= room) this.partial += piece;
    else {
      this.partial += piece.slice(0, Math.max(0, room));
      this.cut += piece.length - Math.max(0, room);
    }
  }

  private finish(): string {
    const line = this.cut > 0 ? `${this.partial}… [line cut at ${this.maxChars} characters: ${this.cut} more]` : this.partial;
    this.partial = '';
    this.cut = 0;
    return line;
  }
}

/**
 * Timestamped lines from a machine (console, app output, heartbeat). Keeps a bounded history so
 * a wait can match a line that arrived before it was called, and reports the last line on timeout.
 */
export class LineBuffer extends EventEmitter implements LineSource {
  private readonly history: ConsoleLine[] = [];
  private readonly splitters = new Map<ConsoleLine['source'], LineSplitter>();
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
    let splitter = this.splitters.get(source);
    if (!splitter) this.splitters.set(source, (splitter = new LineSplitter()));
    for (const line of splitter.feed(chunk)) this.push(source, line);
  }

  /** Flush a trailing partial line (at process exit). */
  flush(source: ConsoleLine['source']): void {
    const rest = this.splitters.get(source)?.flush();
    if (rest) this.push(source, rest);
    this.splitters.delete(source);
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
