import { describe, expect, it } from 'vitest';
import { eventKinds } from '../inject/registry.js';
import { suiteCatalog } from '../run/suite-registry.js';
import { closestName } from './did-you-mean.js';
import { MatrixError } from './errors.js';
import { expandMatrix } from './expand.js';
import { appEnv } from './app-env.js';
import { parseMatrix } from './load.js';

const APP = 'name: t\napp: {command: [/bin/true]}\n';
const parse = (text: string) => parseMatrix(APP + text, '/tmp/m.yaml', { eventKinds, suites: suiteCatalog });

function messages(text: string, expand = false): string[] {
  try {
    const file = parse(text);
    if (expand) expandMatrix(file);
  } catch (error) {
    expect(error).toBeInstanceOf(MatrixError);
    return (error as MatrixError).issues.map((i) => `${i.line}:${i.column} ${i.message}`);
  }
  return [];
}

describe('matrix checks that stop mistakes before a VM', () => {
  it('suggests the close name, preferring the longer shared start, and nothing for a name far from all', () => {
    expect(closestName('vcpu', ['cpu', 'vcpus', 'memory'])).toBe('vcpus');
    expect(closestName('memroy', ['memory', 'maxmem'])).toBe('memory');
    expect(closestName('targte', ['target', 'timeout'])).toBe('target');
    expect(closestName('cpu-modle', ['cpu-model', 'clocks'])).toBe('cpu-model');
    expect(closestName('pool', ['cpu', 'vcpus', 'host', 'slots', 'events'])).toBeUndefined();
    expect(closestName('tier', ['cpu', 'vcpus', 'host', 'slots', 'events', 'machine'])).toBeUndefined();
  });

  it('accepts a user axis close to a known one once declared in user_axes, and one far from all without', () => {
    expect(messages('user_axes: [vcpu]\naxes: {vcpu: [a, b], tier: [small]}\n')).toEqual([]);
    const [cell] = expandMatrix(parse('user_axes: [vcpu]\naxes: {vcpu: [a], tier: [small]}\n')).cells;
    expect(appEnv(cell!)).toMatchObject({ BW_AXIS_VCPU: 'a', BW_AXIS_TIER: 'small' });
    expect(cell!.machine.vcpus).toBe(1);
    expect(messages('user_axes: [vcpus]\n')).toEqual(['3:13 "vcpus" is a known axis, not a user axis']);
  });

  it('checks axis names in defaults, include and exclude too', () => {
    expect(messages('defaults: {memroy: 1G}\naxes: {cpu: [max]}\nexclude: [{cpu: max, vcpu: 2}]\n')).toEqual([
      expect.stringMatching(/^3:12 unknown axis "memroy" \(did you mean "memory"\?\)/),
      expect.stringMatching(/^5:22 unknown axis "vcpu" \(did you mean "vcpus"\?\)/),
    ]);
  });

  it("names QEMU's vCPU limit of the machine types the matrix uses, and the machine type itself", () => {
    expect(messages('axes: {machine: [pc], vcpus: [1, 300]}\n')).toEqual([expect.stringMatching(/^3:34 vcpus 300 is more than QEMU's limit of 255 vCPUs for machine pc/)]);
    expect(messages('axes: {machine: [q53]}\n')).toEqual([expect.stringMatching(/^3:18 machine "q53" is not a known x86 machine type: .*\(did you mean "q35"\?\)/)]);
    expect(messages('axes: {machine: [pc-q35-7.2, pc-i440fx-10.0], cpu: ["max,-x2apic", 486, Skylake-Client]}\n')).toEqual([]);
    expect(messages('defaults: {maxmem: 1T}\n')).toEqual([expect.stringMatching(/^3:20 maxmem 1T \(1048576 MiB\) is above 512 GiB: QEMU's 40-bit guest address space/)]);
  });

  it('validates each step with its kind: balloon beyond 100%, a zero timeout, an unknown parameter of a kind without any', () => {
    const steps = ['{at: 1s, do: balloon, with: {target: 150%}}', '{at: 1s, do: migrate, with: {timeout: 0}}', '{at: 1s, do: clock-correct, with: {force: true}}'];
    expect(messages(`scenarios:\n  s:\n${steps.map((s) => `    - ${s}\n`).join('')}`)).toEqual([
      expect.stringMatching(/^5:44 event balloon: parameter target="150%" must be a size such as 256M or a fraction .* at most 100%/),
      expect.stringMatching(/^6:45 event migrate: parameter timeout=0 must be a duration such as 500ms or 2s, at least 1 ms/),
      expect.stringMatching(/^7:42 event clock-correct: unknown parameter "force"; it takes no parameters/),
    ]);
  });

  it('refuses a step that could only fire after the cell timed out', () => {
    expect(messages('timeout: 60s\nscenarios:\n  s:\n    - {at: 90s, do: pause}\n    - {at: 1s, do: pause, repeat: {count: 30, every: 2s}}\n')).toEqual([
      expect.stringMatching(/^6:12 it fires at 90000 ms, at or after the cell's timeout of 60000 ms/),
      expect.stringMatching(/^7:35 its last repeat \(30 × 2000 ms after 1000 ms\) fires at 61000 ms/),
    ]);
  });

  it('at expansion: a DIMM bigger than maxmem leaves room for is an error at its size; an optional mem-plug without maxmem is not', () => {
    const grow = (step: string, defaults: string) => `defaults: {${defaults}}\naxes: {events: [g]}\nscenarios:\n  g:\n    - ${step}\n`;
    expect(messages(grow('{at: 1s, do: mem-plug, with: {size: 1G}}', 'memory: 512M, maxmem: 1G'), true)).toEqual([
      expect.stringMatching(/^7:43 mem-plug of 1G does not fit below maxmem; 1 cell\(s\) with scenario "g" lack it, .*room for 512M/),
    ]);
    expect(messages(grow('{at: 1s, do: mem-plug, optional: true}', 'memory: 512M'), true)).toEqual([]);
    expect(messages(grow('{at: 1s, do: mem-plug}', 'memory: 512M, backend: container'), true)).toEqual([]);
  });
});
