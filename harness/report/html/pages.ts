import type { CellResult } from '../../model/result.js';
import type { RunRecord } from '../run-record.js';
import { OUTCOMES, countOutcomes, metricValue } from '../summary.js';
import { cellFile, esc } from './escape.js';
import { renderFlags } from './flags.js';
import { renderHeatmap } from './heatmap.js';
import { STYLE } from './style.js';
import { renderTimeline } from './timeline.js';
import { renderWorlds } from './worlds.js';

function page(title: string, body: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>\n`;
}

function environment(record: RunRecord): string {
  const e = record.environment;
  const rows: Array<[string, string]> = [
    ['host CPU', `${e.hostCpuModel} (${e.cores} cores, ${e.memoryMiB} MiB)`],
    ['host', `${e.hostOs}, kernel ${e.hostKernel}`],
    ['accelerator', `${e.kvm.usable ? 'KVM' : 'TCG'} — ${e.kvm.reason}`],
    ['QEMU', e.qemuVersion ?? '—'],
    ['libvirt / Docker', `${e.libvirtVersion ?? '—'} / ${e.dockerVersion ?? '—'}`],
    ['bothworlds / Node', `${e.harnessVersion} / ${e.nodeVersion}`],
    ['matrix', `${record.matrix.path} (sha256 ${record.matrix.hash.slice(0, 16)}…)`],
    ['run', `${record.runId}, started ${record.startedAt}${record.finishedAt ? `, finished ${record.finishedAt}` : ''}${record.shard ? `, shard ${record.shard.index}/${record.shard.total}` : ''}`],
  ];
  return `<table class="kv">${rows.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('')}</table>`;
}

export function renderIndex(record: RunRecord): string {
  const counts = countOutcomes(record.cells);
  const totals = OUTCOMES.filter((o) => counts[o] > 0)
    .map((o) => `<span class="t-${o}"><i class="dot o-${o}"></i>${counts[o]} ${o}</span>`)
    .join('');
  const notPassed = record.cells.filter((c) => c.outcome !== 'passed');
  const problems = notPassed.length
    ? `<h2>What did not pass, and why</h2><table><tr><th>cell</th><th>outcome</th><th>reason</th></tr>${notPassed
        .map((c) => `<tr><td><a href="cells/${esc(cellFile(c.id))}">${esc(c.id)}</a></td><td class="t-${c.outcome}">${c.outcome}</td><td>${esc(c.reason ?? '')}</td></tr>`)
        .join('')}</table>`
    : '';
  const worlds = renderWorlds(record.cells);
  const body = [
    `<h1>bothworlds — ${esc(record.matrix.name)}</h1>`,
    `<p class="totals">${record.cells.length} cells: ${totals}${record.interrupted ? ' <span class="t-interrupted">run interrupted</span>' : ''}</p>`,
    `<h2>Matrix</h2><p class="muted">Hover a cell for its timings, click it for its log, checks and timeline.</p>${renderHeatmap(record.cells)}`,
    problems,
    `<h2>CPU flags side by side</h2>${renderFlags(record.cells, record.environment.hostCpuFlags)}`,
    worlds ? `<h2>Physical vs virtual</h2><p class="muted">The same application and suites on a physical host and on each virtual cell.</p>${worlds}` : '',
    `<h2>Environment</h2>${environment(record)}`,
  ];
  return page(`bothworlds ${record.matrix.name}`, body.join('\n'));
}

export function renderCellPage(record: RunRecord, cell: CellResult): string {
  const metrics = Object.entries(cell.metrics).map(([k, m]) => `<tr><td>${esc(k)}</td><td>${esc(metricValue(m))}</td></tr>`).join('');
  const suites = cell.suites
    .map(
      (s) =>
        `<h3 class="t-${s.outcome}">${esc(s.suite)}: ${s.outcome}${s.reason ? ` — ${esc(s.reason)}` : ''}</h3><table><tr><th>check</th><th>outcome</th><th>message</th></tr>${s.checks
          .map((c) => `<tr><td>${esc(c.name)}</td><td class="t-${c.outcome}">${c.outcome}</td><td>${esc(c.message)}</td></tr>`)
          .join('')}</table>${Object.keys(s.metrics).length ? `<table class="kv">${Object.entries(s.metrics).map(([k, m]) => `<tr><td>${esc(k)}</td><td>${esc(metricValue(m))}</td></tr>`).join('')}</table>` : ''}`,
    )
    .join('');
  const events = cell.events.length
    ? `<table><tr><th>event</th><th>outcome</th><th>requested</th><th>acknowledged</th><th>observed</th><th>metrics</th></tr>${cell.events
        .map(
          (e) =>
            `<tr><td>${esc(e.label)}</td><td>${esc(e.outcome)}${e.error ? `: ${esc(e.error.message)}` : e.reason ? `: ${esc(e.reason)}` : ''}</td><td>${e.requestedAtMs.toFixed(0)} ms</td><td>${e.acknowledgedAtMs?.toFixed(0) ?? '—'}</td><td>${e.observedAtMs?.toFixed(0) ?? '—'}</td><td>${esc(Object.entries(e.metrics).map(([k, m]) => `${k} ${metricValue(m)}`).join(', '))}</td></tr>`,
        )
        .join('')}</table>${renderTimeline(cell)}`
    : '<p class="muted">No events.</p>';
  const log = cell.log.map((l) => `<span class="s-${esc(l.source)}">${(l.t / 1000).toFixed(3).padStart(8)} ${esc(l.source.padEnd(7))} ${esc(l.text)}</span>`).join('\n');
  const body = [
    `<p><a href="../index.html">← ${esc(record.matrix.name)}</a></p>`,
    `<h1>${esc(cell.id)} <span class="t-${cell.outcome}">${cell.outcome}</span></h1>`,
    cell.reason ? `<p>${esc(cell.reason)}</p>` : '',
    `<table class="kv">${Object.entries(cell.axes).map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('')}<tr><td>backend / accel</td><td>${esc(cell.backend)} / ${esc(cell.accel ?? '—')}</td></tr><tr><td>attempts</td><td>${esc(cell.attempts.map((a) => a.outcome).join(' → '))}</td></tr></table>`,
    `<h2>Timings</h2><table class="kv">${metrics}</table>`,
    `<h2>Suites</h2>${suites || '<p class="muted">No suites.</p>'}`,
    `<h2>Events</h2>${events}`,
    cell.facts ? `<h2>Facts</h2><table class="kv"><tr><td>CPU</td><td>${esc(cell.facts.cpuModelName)}</td></tr><tr><td>online CPUs</td><td>${cell.facts.onlineCpus}</td></tr><tr><td>MemTotal</td><td>${Math.round(cell.facts.memTotalKiB / 1024)} MiB</td></tr><tr><td>clocksource</td><td>${esc(cell.facts.clocksource)}</td></tr><tr><td>flags</td><td><code>${esc(cell.facts.cpuFlags.join(' '))}</code></td></tr></table>` : '',
    `<h2>Console and application log</h2><pre class="log">${log || 'no output'}</pre>`,
  ];
  return page(`${cell.id} — bothworlds`, body.join('\n'));
}
