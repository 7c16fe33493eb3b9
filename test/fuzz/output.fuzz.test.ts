import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../harness/machines/line-source.js';

/** Bytes as an application writes them, cut into chunks wherever a pipe happens to cut them. */
const output = fc.tuple(
  fc.array(fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }).map((s) => Buffer.from(s)), fc.constantFrom(Buffer.from('\n'), Buffer.from('\r\n'), Buffer.from('é日😀'))), { maxLength: 30 }),
  fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1, maxLength: 10 }),
);

function chunked(bytes: Buffer, sizes: number[]): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length]!;
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

/** Issue 13: random application output through the line splitter every backend uses. */
describe('fuzz: application output into lines', () => {
  it('however it is chunked, the lines are those of the whole output decoded at once', () => {
    fc.assert(
      fc.property(output, ([parts, sizes]) => {
        const bytes = Buffer.concat(parts.map((p) => Buffer.from(p)));
        const splitter = new LineSplitter();
        const lines = chunked(bytes, sizes).flatMap((c) => splitter.feed(c));
        const rest = splitter.flush();
        if (rest !== undefined) lines.push(rest);
        const expected = bytes.toString('utf8').split('\n').map((l) => l.replace(/\r$/, ''));
        if (expected.at(-1) === '') expected.pop();
        expect(lines).toEqual(expected);
      }),
      { numRuns: 1000 },
    );
  });

  it('a line never grows past the cap, however much comes without a newline', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 999 }), (cap, total, chunk) => {
        const splitter = new LineSplitter(cap);
        const lines: string[] = [];
        for (let sent = 0; sent < total; sent += chunk) lines.push(...splitter.feed('x'.repeat(Math.min(chunk, total - sent))));
        lines.push(splitter.flush()!);
        expect(lines).toHaveLength(1);
        expect(lines[0]!.startsWith('x'.repeat(Math.min(cap, total)))).toBe(true);
        expect(lines[0]!.length).toBeLessThanOrEqual(cap + 80);
        if (total > cap) expect(lines[0]).toContain(`${total - cap} more`);
      }),
      { numRuns: 500 },
    );
  });
});
