import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { writeReports } from './write-all.js';
import { buildMarkdown } from './markdown.js';
import { buildJson } from './json.js';
import { fixtureCell, fixtureRecord } from './fixture.test-helper.js';
import { useTempDirs } from './temp-dirs.test-helper.js';

const tempDir = useTempDirs();
const schema = JSON.parse(readFileSync(new URL('./run.schema.json', import.meta.url), 'utf8')) as object;
const validate = new Ajv({ strict: true, allowUnionTypes: true, allErrors: true, formats: { 'date-time': /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/ } }).compile(schema);

describe('results.json', () => {
  it('is valid against the published schema', async () => {
    const paths = await writeReports(fixtureRecord(), tempDir());
    const written = JSON.parse(readFileSync(paths.json, 'utf8')) as unknown;
    expect(validate(written), JSON.stringify(validate.errors)).toBe(true);
    expect(written).toEqual(JSON.parse(JSON.stringify(fixtureRecord())));
  });

  it('puts one cell per line and stays valid JSON with no cells at all', async () => {
    const record = fixtureRecord();
    const text = buildJson(record);
    expect(text.split('\n').filter((l) => l.startsWith('    {"axes":'))).toHaveLength(record.cells.length);
    expect(JSON.parse(buildJson({ ...record, cells: [] }))).toEqual({ ...JSON.parse(JSON.stringify(record)), cells: [] });
  });

  it('rejects a metric without its unit, an unknown outcome and incomplete facts', () => {
    const record = fixtureRecord();
    const bad = (mutate: (r: typeof record) => void) => {
      const copy = structuredClone(record);
      mutate(copy);
      return validate(copy);
    };
    expect(bad(() => undefined)).toBe(true);
    expect(bad((r) => ((r.cells[0]!.metrics as Record<string, unknown>).boot_ms = { value: 1 }))).toBe(false);
    expect(bad((r) => ((r.cells[0]!.events[0]!.metrics as Record<string, unknown>).ack_ms = { value: 1, unit: 'furlongs' }))).toBe(false);
    expect(bad((r) => ((r.cells[0] as { outcome: string }).outcome = 'green'))).toBe(false);
    expect(bad((r) => delete (r.cells[0]!.facts as Partial<NonNullable<typeof r.cells[0]['facts']>>).cpuFlags)).toBe(false);
  });
});

describe('summary.md', () => {
  const markdown = buildMarkdown(fixtureRecord());

  it('gives totals by outcome, including planned cells that never ran', () => {
    expect(markdown).toContain('6 of 7 planned cells — **2 passed**, **1 failed**, **1 error**, **1 skipped**, **1 interrupted**, **1 not run**');
  });

  it('has a table of the cells that did not pass, with their reasons, escaped for Markdown', () => {
    expect(markdown).toContain('| cell | outcome | reason |');
    expect(markdown).toContain('| `qemu-sandybridge-vcpus1-bbbbbb` | failed | hotplug-awareness: app kept 1 worker threads after vCPUs went 1→2 |');
    expect(markdown).toContain("| `qemu-host-passthrough-vcpus1-dddddd` | skipped | CPU model 'host-passthrough' requires KVM |");
    expect(markdown).toContain('| `qemu-sandybridge-vcpus2-gggggg` | not run | no result recorded |');
    expect(markdown).not.toContain('| `qemu-nehalem-vcpus1-aaaaaa` | passed | |');
  });

  it('lists key timings: boot, app and migration downtime as QEMU and the heartbeat saw it', () => {
    expect(markdown).toContain('| `qemu-nehalem-vcpus1-aaaaaa` | passed | 1.70 s | 2.00 s | 12 ms / 400 ms |');
    expect(markdown).toContain('| `local-"quoted"-eeeeee` | passed | 5.0 ms | 900 ms |  |');
  });

  it('stays bounded for a large broken run', () => {
    const record = fixtureRecord();
    record.cells = Array.from({ length: 1000 }, (_, i) => fixtureCell({ id: `cell-${i}`, outcome: 'error', reason: 'QEMU exited' }));
    record.cellIds = record.cells.map((c) => c.id);
    const text = buildMarkdown(record);
    expect(text).toContain('| … 800 more in index.html | | |');
    expect(text).toContain('| … 900 more in index.html | | | | |');
    expect(text.length).toBeLessThan(40_000);
  });

  it('keeps hostile reasons inside their row', () => {
    const record = fixtureRecord();
    record.cells[1]!.reason = 'a | b\n<img src=x onerror=alert(1)>';
    const text = buildMarkdown(record);
    expect(text).toContain('a \\| b &lt;img src=x onerror=alert(1)&gt;');
  });
});
