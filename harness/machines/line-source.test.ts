import { afterEach, describe, expect, it } from 'vitest';
import { ResourceScope } from '../core/scope.js';
import { LineBuffer, LineSplitter, MAX_LINE_CHARS } from './line-source.js';
import { startLocalMachine } from './local/index.js';

const MB = 1024 * 1024;

/** Issue 13, problem 8: output of any size, as a bounded stream of whole lines. */
describe('lines from application output', () => {
  let scope: ResourceScope | undefined;
  afterEach(async () => {
    await scope?.dispose();
    scope = undefined;
  });

  it('50 MB without a newline: one line cut at 64 Ki characters with a marker, in linear time', () => {
    const buffer = new LineBuffer();
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const t0 = performance.now();
    for (let sent = 0; sent < 50 * MB; sent += chunk.length) buffer.feed('app', chunk);
    buffer.feed('app', '\nnext\n');
    const ms = performance.now() - t0;
    console.log(`50 MB without a newline through LineBuffer: ${ms.toFixed(0)} ms`);
    const [long, next] = buffer.lines;
    expect(long!.text.length).toBeLessThan(MAX_LINE_CHARS + 100);
    expect(long!.text).toMatch(/^a{65536}… \[line cut at 65536 characters: 52363264 more\]$/);
    expect(next!.text).toBe('next');
    expect(ms).toBeLessThan(5_000);
  });

  it('decodes UTF-8 as a stream: a character split across chunks stays whole', () => {
    const splitter = new LineSplitter();
    const bytes = Buffer.from(`${'é'.repeat(1000)}\n${'日本'.repeat(500)}`);
    const lines: string[] = [];
    for (let i = 0; i < bytes.length; i += 7) lines.push(...splitter.feed(bytes.subarray(i, i + 7)));
    lines.push(splitter.flush()!);
    expect(lines).toEqual(['é'.repeat(1000), '日本'.repeat(500)]);
    expect(lines.join('')).not.toContain('\ufffd');
  });

  it('a real application printing 50 MB without a newline on the local backend: bounded line, bounded memory', async () => {
    scope = new ResourceScope('long-line');
    const machine = await startLocalMachine({ scope, name: 'long-line' });
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    // 25 Mi two-byte characters: pipe chunks split them wherever they fall.
    const app = await machine.spawn(['sh', '-c', "yes é | tr -d '\\n' | head -c 52428800; printf '\\ndone\\n'"]);
    const result = await app.wait(60_000);
    const ms = performance.now() - t0;
    const grownMiB = (process.memoryUsage().rss - rss0) / MB;
    console.log(`local app, 50 MB on one line: ${ms.toFixed(0)} ms, RSS grew ${grownMiB.toFixed(0)} MiB, kept stdout ${result.stdout.length} chars`);
    const lines = machine.output.lines.filter((l) => l.source === 'app');
    expect(lines.map((l) => l.text.length <= MAX_LINE_CHARS + 100)).toEqual(lines.map(() => true));
    expect(lines.at(-1)!.text).toBe('done');
    expect(lines[0]!.text).toMatch(/line cut at 65536 characters/);
    expect(lines[0]!.text).not.toContain('\ufffd');
    expect(ms).toBeLessThan(20_000);
    expect(grownMiB).toBeLessThan(150);
  });
});
