import { StringDecoder } from 'node:string_decoder';

/**
 * The last `limit` characters of a process's output, decoded as a stream. Trimmed only when twice
 * the limit is held, so keeping a tail of 50 MB of output copies it about once, not once per chunk.
 */
export class OutputTail {
  private readonly decoder = new StringDecoder('utf8');
  private kept = '';

  constructor(private readonly limit: number) {}

  add(chunk: Buffer | string): void {
    this.kept += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    if (this.kept.length > 2 * this.limit) this.kept = this.kept.slice(-this.limit);
  }

  text(): string {
    this.kept += this.decoder.end();
    return this.kept.slice(-this.limit);
  }
}
