import { describe, expect, it } from 'vitest';
import { matchesSubset } from './client.js';
import { JsonLineSplitter } from './transport.js';

describe('JsonLineSplitter', () => {
  it('joins a line split across chunks and splits several lines in one chunk', () => {
    const splitter = new JsonLineSplitter();
    expect(splitter.push(Buffer.from('{"return": {"a"'))).toEqual([]);
    expect(splitter.push(Buffer.from(': 1}}\r\n{"event": "STOP"}\n{"return"'))).toEqual(['{"return": {"a": 1}}', '{"event": "STOP"}']);
    expect(splitter.push(Buffer.from(': {}}\n\n'))).toEqual(['{"return": {}}']);
  });

  it('keeps a multi-byte UTF-8 character that straddles two chunks', () => {
    const bytes = Buffer.from('{"desc": "caf\u00e9 \u2603"}\n');
    const cut = bytes.indexOf(0xc3) + 1; // inside the two bytes of é
    const splitter = new JsonLineSplitter();
    expect(splitter.push(bytes.subarray(0, cut))).toEqual([]);
    expect(splitter.push(bytes.subarray(cut))).toEqual(['{"desc": "caf\u00e9 \u2603"}']);
  });

  it('drops the half message before a 0xFF delimiter in agent mode, but not in QMP mode', () => {
    const agent = new JsonLineSplitter(true);
    expect(agent.push(Buffer.from('{"return": {"stale'))).toEqual([]);
    expect(agent.push(Buffer.concat([Buffer.from('-tail'), Buffer.from([0xff]), Buffer.from('{"return": 42}\n')]))).toEqual(['{"return": 42}']);
    expect(agent.push(Buffer.from([0xff, 0xff, 0x7b, 0x7d, 0x0a]))).toEqual(['{}']);
  });

  it('forgets a partial line on reset', () => {
    const splitter = new JsonLineSplitter();
    splitter.push(Buffer.from('{"half'));
    splitter.reset();
    expect(splitter.push(Buffer.from('{"whole": 1}\n'))).toEqual(['{"whole": 1}']);
  });
});

describe('matchesSubset', () => {
  it('matches nested subsets and rejects differing or missing values', () => {
    const data = { device: 'cpu1', path: '/machine/peripheral/cpu1', info: { size: 2, tags: ['a'] } };
    expect(matchesSubset(data, { device: 'cpu1' })).toBe(true);
    expect(matchesSubset(data, { info: { size: 2 } })).toBe(true);
    expect(matchesSubset(data, {})).toBe(true);
    expect(matchesSubset(data, { device: 'cpu2' })).toBe(false);
    expect(matchesSubset(data, { missing: 1 })).toBe(false);
    expect(matchesSubset(data, { info: { size: '2' } })).toBe(false);
    expect(matchesSubset(data, { info: { tags: ['a'] } })).toBe(true);
  });
});
