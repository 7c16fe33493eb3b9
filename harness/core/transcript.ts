import { AsyncLocalStorage } from 'node:async_hooks';

/** Which conversation a line belongs to: one transcript file each. */
export type TranscriptStream = 'qmp' | 'agent' | 'virsh';

/**
 * Receives every line a protocol client sends or receives. Clients take one at connect time
 * (explicitly, or the ambient one of the cell that created them) and call it only when set, so an
 * unrecorded client pays one undefined check per line.
 */
export interface TranscriptRecorder {
  /** `>` sent, `<` received, `!` a note (a failure without a reply). `channel` names the peer (a QEMU's run folder, a domain). */
  record(stream: TranscriptStream, channel: string, direction: '>' | '<' | '!', text: string): void;
}

const ambient = new AsyncLocalStorage<TranscriptRecorder>();

/** Run `work` with `recorder` as the ambient recorder: clients connected inside it record into it. */
export function withTranscript<T>(recorder: TranscriptRecorder | undefined, work: () => Promise<T>): Promise<T> {
  return recorder ? ambient.run(recorder, work) : work();
}

export function ambientTranscript(): TranscriptRecorder | undefined {
  return ambient.getStore();
}

/** Outside every cell (a golden snapshot's QEMU outlives the cell that asked for it): nothing is recorded. */
export function withoutTranscript<T>(work: () => T): T {
  return ambient.exit(work);
}

export interface TranscriptLimits {
  /** Per stream: the first half is kept from the start, the rest is the most recent lines. */
  maxBytes: number;
  /** One line longer than this keeps its start and says how much was cut (base64 file chunks). */
  maxLineBytes: number;
}

interface Kept {
  head: string[];
  headBytes: number;
  tail: string[];
  tailBytes: number;
  dropped: number;
  droppedBytes: number;
}

/**
 * One cell attempt's transcripts, in memory and size-capped: each stream keeps its beginning
 * (greeting, capabilities, boot) and its end (what led to the verdict), with a line saying how much
 * of the middle was left out. Times are ms on the monotonic clock since `origin` (the cell's
 * machine clock, so they line up with the console log). Closed once written: clients that outlive
 * the cell (a golden snapshot's QEMU) stop adding to it.
 */
export class Transcript implements TranscriptRecorder {
  private readonly streams = new Map<TranscriptStream, Kept>();
  private closed = false;

  constructor(
    private origin: number = performance.now(),
    private readonly limits: TranscriptLimits = { maxBytes: 2 * 1024 * 1024, maxLineBytes: 8 * 1024 },
  ) {}

  /** Align times with a machine's clock once it exists. */
  setOrigin(origin: number): void {
    this.origin = origin;
  }

  record(stream: TranscriptStream, channel: string, direction: '>' | '<' | '!', text: string): void {
    if (this.closed) return;
    const t = ((performance.now() - this.origin) / 1000).toFixed(6).padStart(12);
    const body = text.length > this.limits.maxLineBytes ? `${text.slice(0, this.limits.maxLineBytes)}… (${text.length - this.limits.maxLineBytes} more characters)` : text;
    const line = `${t} ${channel} ${direction} ${body.replace(/\r?\n$/, '').replace(/\n/g, '\\n')}\n`;
    let kept = this.streams.get(stream);
    if (!kept) this.streams.set(stream, (kept = { head: [], headBytes: 0, tail: [], tailBytes: 0, dropped: 0, droppedBytes: 0 }));
    const half = this.limits.maxBytes / 2;
    if (kept.headBytes + line.length <= half && kept.tail.length === 0) {
      kept.head.push(line);
      kept.headBytes += line.length;
      return;
    }
    kept.tail.push(line);
    kept.tailBytes += line.length;
    while (kept.tailBytes > half && kept.tail.length > 1) {
      const old = kept.tail.shift()!;
      kept.tailBytes -= old.length;
      kept.dropped++;
      kept.droppedBytes += old.length;
    }
  }

  /** The streams that saw traffic, each as its text. */
  texts(): Array<{ stream: TranscriptStream; text: string; truncated: boolean }> {
    return [...this.streams.entries()].map(([stream, kept]) => ({
      stream,
      truncated: kept.dropped > 0,
      text: [...kept.head, ...(kept.dropped > 0 ? [`… ${kept.dropped} lines (${kept.droppedBytes} bytes) left out here to keep the transcript within ${this.limits.maxBytes} bytes …\n`] : []), ...kept.tail].join(''),
    }));
  }

  close(): void {
    this.closed = true;
  }
}
