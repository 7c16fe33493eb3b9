import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeReports } from './write-all.js';
import { chooseAxes, renderHeatmap } from './html/heatmap.js';
import { cellHeartbeatGaps, heartbeatGaps } from './html/heartbeat-gaps.js';
import { cellFile } from './html/escape.js';
import { renderFlags } from './html/flags.js';
import { renderWorlds } from './html/worlds.js';
import { pmuOf } from './summary.js';
import { renderTimeline } from './html/timeline.js';
import { fixtureCell, fixtureRecord } from './fixture.test-helper.js';
import { useTempDirs } from './temp-dirs.test-helper.js';

const tempDir = useTempDirs();

async function written() {
  const dir = tempDir();
  const paths = await writeReports(fixtureRecord(), dir);
  const cellPage = (id: string) => readFileSync(join(dir, 'cells', `${id}.html`), 'utf8');
  return { dir, index: readFileSync(paths.html, 'utf8'), cellPage };
}

describe('HTML report', () => {
  it('escapes everything that came from a guest, an app or a matrix', async () => {
    const { dir, index, cellPage } = await written();
    expect(index).not.toContain('<b>x</b>');
    expect(index).toContain('host&quot;&gt;&lt;b&gt;x&lt;/b&gt;');
    expect(index).toContain('local-&quot;quoted&quot;-eeeeee');
    const page = cellPage('qemu-nehalem-vcpus1-aaaaaa');
    expect(page).not.toContain('<script>alert(1)</script>');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(cellPage('qemu-sandybridge-vcpus1-bbbbbb')).toContain('1→2 \u001b[31m]]&gt; &lt;b&gt;');
    // No page carries a script, and the quoted id became a safe file name that the index links to.
    for (const file of readdirSync(join(dir, 'cells'))) expect(readFileSync(join(dir, 'cells', file), 'utf8')).not.toMatch(/<script/i);
    expect(index).not.toMatch(/<script/i);
    expect(readdirSync(join(dir, 'cells'))).toContain('local-_quoted_-eeeeee-3e8e3527.html');
    expect(index).toContain('href="cells/local-_quoted_-eeeeee-3e8e3527.html"');
    expect(cellFile('a"b')).not.toBe(cellFile('a_b'));
    expect(cellFile('../../etc/passwd')).toMatch(/^[^./][^/]*-[0-9a-f]{8}\.html$/);
  });

  it('is self-contained: nothing is fetched from the network', async () => {
    const { index, cellPage } = await written();
    for (const html of [index, cellPage('qemu-nehalem-vcpus1-aaaaaa')]) {
      expect(html).not.toMatch(/<link|<img|src=|url\(|@import|https?:\/\//i);
      expect(html).toContain('<style>');
    }
  });

  it('draws the matrix as a heatmap over the two widest axes, coloured by outcome, timings on hover', async () => {
    const record = fixtureRecord();
    expect(chooseAxes(record.cells)).toEqual({ column: 'cpu', row: 'backend', groups: ['vcpus'] });
    const html = renderHeatmap(record.cells);
    expect(html.match(/<td class="cell o-/g)).toHaveLength(record.cells.length);
    expect(html).toMatch(/<td class="cell o-failed" title="qemu-sandybridge-vcpus1-bbbbbb\noutcome: failed\nwhy: hotplug-awareness: app kept 1 worker/);
    expect(html).toMatch(/title="qemu-nehalem-vcpus1-aaaaaa\noutcome: passed\nboot: 1.70 s\napp: 2.00 s\ncpu-plug: ok, seen after 300 ms\nmigrate: ok, seen after 1000 ms\nmigration downtime \(QEMU \/ heartbeat\): 12 ms \/ 400 ms"/);
    expect(html).toContain('<th rowspan="1" class="group">vcpus=1</th>');
    expect(html).toContain('<th rowspan="2" class="group">vcpus=2</th>');
    // vcpus=1 has no local cell: that row is left out rather than drawn empty.
    expect(html.match(/<tr>/g)).toHaveLength(1 + 3);
  });

  it('lists what did not pass with reasons, including planned cells that never ran', async () => {
    const { index } = await written();
    const problems = index.slice(index.indexOf('What did not pass'), index.indexOf('CPU flags side by side'));
    expect(problems.indexOf('failed')).toBeLessThan(problems.indexOf('skipped'));
    expect(problems).toContain('hotplug-awareness: app kept 1 worker threads after vCPUs went 1→2');
    expect(problems).toContain('QEMU exited <code>QEMU_EXITED</code>');
    expect(problems).toContain('qemu-sandybridge-vcpus2-gggggg</td><td class="muted">not run');
  });

  it('shows CPU flags side by side with the host as reference, notable flags first and highlighted', async () => {
    const { index } = await written();
    const flags = index.slice(index.indexOf('CPU flags side by side'), index.indexOf('Physical vs virtual'));
    expect(flags).toMatch(/<th title="harness host · 9 flags" class="ref">this host/);
    expect(flags).toContain('>Nehalem · qemu<br>');
    expect(flags).toContain('>SandyBridge · qemu<br>');
    const rows = [...flags.matchAll(/<tr><td( class="notable")?>([^<]+)<\/td>((?:<td[^>]*>.<\/td>)+)<\/tr>/g)].map((m) => [m[2], Boolean(m[1]), [...m[3]!.matchAll(/>(.)</g)].map((x) => x[1]).join('')]);
    expect(flags.indexOf('local (physical)')).toBeLessThan(flags.indexOf('>Nehalem · qemu<br>'));
    expect(rows).toContainEqual(['vmx', true, '✓✓✗✗']);
    expect(rows).toContainEqual(['hypervisor', true, '✗✗✓✓']);
    expect(rows).toContainEqual(['avx', true, '✓✓✗✓']);
    expect(rows.map((r) => r[0])).not.toContain('fpu');
  });

  it('keys columns by backend and model, and says a cpu value did not apply on a host or a container', () => {
    const base = fixtureCell({ id: 'x' }).facts!;
    const cells = [
      fixtureCell({ id: 'q', backend: 'qemu', axes: { cpu: 'max' }, facts: { ...base, cpuFlags: ['fpu', 'hypervisor'] } }),
      fixtureCell({ id: 'l', backend: 'libvirt', axes: { cpu: 'max' }, facts: { ...base, cpuFlags: ['fpu', 'hypervisor', 'x2apic'] } }),
      fixtureCell({ id: 'h', backend: 'local', axes: { cpu: 'max' }, facts: { ...base, cpuFlags: ['fpu', 'vmx', 'avx2'] } }),
      fixtureCell({ id: 'c', backend: 'container', axes: { cpu: 'max' }, facts: { ...base, cpuFlags: ['fpu', 'vmx', 'avx2'] } }),
    ];
    const html = renderFlags(cells, ['fpu', 'vmx', 'avx2']);
    // Four columns, not one "max" column holding whichever backend came first.
    for (const label of ['max · qemu', 'max · libvirt', 'local (physical)', 'container (container)']) expect(html).toContain(`>${label}<br>`);
    expect(html).toMatch(/title="[^"]*cpu: max n\/a \(physical: its own CPU\)[^"]*">local \(physical\)/);
    expect(html).toMatch(/title="[^"]*cpu: max n\/a \(container: its own CPU\)[^"]*">container \(container\)/);
    expect(html.indexOf('local (physical)')).toBeLessThan(html.indexOf('max · qemu'));
  });

  it('folds the long tail of ordinary flags away and keeps notable ones in view', () => {
    const cells = [fixtureCell({ id: 'a' }), fixtureCell({ id: 'b', axes: { cpu: 'Other' }, facts: { ...fixtureCell({ id: 'x' }).facts!, cpuFlags: ['fpu', 'sse4_2', 'popcnt', 'x2apic', 'ssse3', 'cx16'] } })];
    const html = renderFlags(cells, ['fpu', 'sse4_2', 'popcnt', 'hypervisor', 'x2apic']);
    expect(html).toContain('the 1 notable ones');
    const [visible, folded] = html.split('<details>');
    expect(visible).toContain('>hypervisor<');
    expect(visible).not.toContain('>ssse3<');
    expect(folded).toMatch(/^<summary>2 more flags differ<\/summary>.*>cx16<.*>ssse3</);
    expect(renderFlags([cells[0]!], ['fpu', 'sse4_2', 'popcnt', 'hypervisor', 'x2apic'])).toBe('<p>Every CPU model in this run exposes the same flags as the host.</p>');
  });

  it('puts a physical cell next to the virtual worlds, one row per fact, differences marked', async () => {
    const { index } = await written();
    const worlds = index.slice(index.indexOf('Physical vs virtual'), index.indexOf('<h2>Environment'));
    expect(worlds).toContain('physical<br><span class="muted">local: local-&quot;quoted&quot;-eeeeee</span>');
    expect(worlds).toContain('virtual<br><span class="muted">qemu Nehalem (tcg)</span>');
    expect(worlds).toMatch(/<th>clocksource<\/th><td>kvm-clock<\/td><td class="differs">tsc<\/td>/);
    expect(worlds).toMatch(/<th>PMU cycles \/ instructions<\/th><td>yes \/ yes<\/td><td class="differs">no \/ no<\/td>/);
    expect(worlds).toMatch(/<th>flags missing vs physical<\/th><td>none<\/td><td class="differs">avx avx2 aes vmx arch_perfmon constant_tsc<\/td>/);
    expect(worlds).toMatch(/<th>app<\/th><td>900 ms<\/td><td>2.00 s<\/td>/);
  });

  it('reads PMU availability from the pmu suite when the facts do not carry it', () => {
    const { pmu: _pmu, ...facts } = fixtureCell({ id: 'x' }).facts!;
    const cell = fixtureCell({ id: 'vm', facts, suites: [{ suite: 'pmu', outcome: 'passed', checks: [], durationMs: 1, metrics: { cycles_available: { value: 1, unit: 'bool' }, instructions_available: { value: 0, unit: 'bool' } } }] });
    expect(pmuOf(cell)).toEqual({ cycles: true, instructions: false });
    expect(pmuOf(fixtureCell({ id: 'none', facts }))).toBeUndefined();
    const local = fixtureRecord().cells.find((c) => c.backend === 'local')!;
    expect(renderWorlds([local, cell])).toMatch(/<th>PMU cycles \/ instructions<\/th><td>yes \/ yes<\/td><td class="differs">yes \/ no<\/td>/);
  });

  it('has no physical-vs-virtual section without a physical cell', async () => {
    const record = fixtureRecord();
    record.cells = record.cells.filter((c) => c.backend === 'qemu');
    const dir = tempDir();
    const index = readFileSync((await writeReports(record, dir)).html, 'utf8');
    expect(index).not.toContain('Physical vs virtual');
  });

  it('gives each cell a page with its checks, a timeline with event bars, heartbeat gaps and series, and its log', async () => {
    const { cellPage } = await written();
    const page = cellPage('qemu-nehalem-vcpus1-aaaaaa');
    expect(page).toContain('workers follow vCPUs');
    expect(page).toMatch(/<svg class="timeline"/);
    expect(page).toContain('heartbeat gap: 400 ms without a beat (3.10 s → 3.50 s)');
    expect(page).toContain('<polyline');
    expect(page).toContain('max 11.4 MiB/s');
    expect(page).toContain('listening on :8080');
    expect(page).toContain('<summary>38 heartbeat lines</summary>');
    const failed = cellPage('qemu-sandybridge-vcpus1-bbbbbb');
    expect(failed).toContain('<div class="banner o-failed"><b>failed</b> <span class="meaning">(the application under test misbehaved)</span> — hotplug-awareness');
    expect(failed).toContain('<tr class="bad"><td>workers follow vCPUs</td>');
    expect(cellPage('qemu-max-vcpus1-cccccc')).toContain('the lab failed, not the application');
  });
});

describe('edge cases', () => {
  it('writes every report for a run with no results yet and for a single cell without axes', async () => {
    const empty = { ...fixtureRecord(), cells: [], finishedAt: undefined, interrupted: true };
    delete empty.finishedAt;
    const dir = tempDir();
    const paths = await writeReports(empty, dir);
    const index = readFileSync(paths.html, 'utf8');
    expect(index).toContain('No cell has a result yet.');
    expect(index).toContain('7 not run');
    expect(readFileSync(paths.junit, 'utf8')).toContain('tests="0"');

    const many = Array.from({ length: 300 }, (_, i) => fixtureCell({ id: `c${i}`, axes: { a: i % 20, b: Math.floor(i / 20) } }));
    expect(renderHeatmap(many)).toContain('<table class="heat compact">');
    expect(renderHeatmap(fixtureRecord().cells)).toContain('<table class="heat">');

    const single = { ...fixtureRecord(), cells: [fixtureCell({ id: 'only', axes: {} })], cellIds: ['only'] };
    const html = renderHeatmap(single.cells);
    expect(html.match(/<td class="cell o-passed"/g)).toHaveLength(1);
    await writeReports(single, tempDir());
  });
});

describe('timeline parts', () => {
  it('finds heartbeat gaps far beyond the usual interval and nothing in a steady beat', () => {
    const beat = (t: number) => ({ t, source: 'heartbeat' as const, text: 'hb' });
    const steady = Array.from({ length: 40 }, (_, i) => beat(i * 50 + (i % 3)));
    expect(heartbeatGaps(steady)).toEqual([]);
    expect(heartbeatGaps([...steady, beat(2400), beat(2450)])).toEqual([{ fromMs: 1950, toMs: 2400, source: 'heartbeats' }]);
  });

  it('without heartbeat lines (the line buffer does not keep them) places a migration\'s heartbeat downtime at its switch-over', () => {
    const { events } = fixtureRecord().cells[0]!;
    expect(cellHeartbeatGaps([], events)).toEqual([{ fromMs: 3100, toMs: 3500, source: 'event' }]);
    const svg = renderTimeline(fixtureCell({ id: 'real', events }));
    expect(svg).toContain('heartbeat gap: 400 ms without a beat, ending at the switch-over (3.50 s)');
  });

  it('places bars on a shared time axis: requested → acknowledged → observed', () => {
    const svg = renderTimeline(fixtureCell({ id: 'c', durationMs: 1000, events: [{ kind: 'pause', label: 'pause', outcome: 'ok', requestedAtMs: 0, acknowledgedAtMs: 500, observedAtMs: 1000, durationMs: 1000, metrics: {} }] }));
    // 820 px of plot from x=150: requested at 150, acknowledged at 560, observed at 970
    expect(svg).toContain('<rect x="150.0" y="11" width="410.0" height="12" fill="#2e9d4f" opacity="0.35"/>');
    expect(svg).toContain('<rect x="560.0" y="11" width="410.0" height="12" fill="#2e9d4f"/>');
    expect(renderTimeline(fixtureCell({ id: 'quiet' }))).toBe('');
  });

  it('names constant series instead of plotting flat lines, and numbers events so equal labels stay apart', () => {
    const event = (label: string, at: number, throttle: number[]) => ({ kind: 'migrate', label, outcome: 'ok' as const, requestedAtMs: at, acknowledgedAtMs: at + 100, durationMs: 200, metrics: {}, series: [{ name: 'cpu throttle', unit: 'percent', points: throttle.map((v, i): [number, number] => [at + i * 10, v]) }] });
    const svg = renderTimeline(fixtureCell({ id: 'm', events: [event('migrate', 100, [0, 0, 0]), event('migrate', 500, [0, 20, 40])] }));
    expect(svg).toContain('constant, not plotted: cpu throttle 0 percent (1. migrate)');
    expect(svg.match(/<polyline/g)).toHaveLength(1);
    expect(svg).toContain('>2. migrate</text><text x="4" y="');
    expect(svg).toContain('>1. migrate</text><rect');
  });
});
