import type { Metrics } from '../../model/metrics.js';
import type { CellResult, ConsoleLine, EventRecord, SuiteResult } from '../../model/result.js';
import type { RunInfo } from '../run-record.js';
import { metricValue, pmuOf } from '../summary.js';
import { esc } from './escape.js';
import { environmentLine, page } from './layout.js';
import { renderTimeline } from './timeline.js';
import { renderCellIsa } from './isa.js';
import { renderRepeats, renderRuns } from './repeats.js';
import { quarantineNote } from '../repeat-summary.js';

/** So nobody has to guess whether a red cell is their bug or the lab's. */
const MEANING: Partial<Record<string, string>> = {
  failed: 'the application under test misbehaved',
  error: 'the lab failed, not the application',
  skipped: 'this combination cannot run here',
  interrupted: 'the run was stopped while this cell ran',
  incomplete: 'nothing failed, but something this cell asked for was not done: it did not test what it claims',
  flaky: 'the cell passed in some runs and not in others: it cannot be trusted either way',
};

export function renderCellPage(record: Pick<RunInfo, 'matrix' | 'environment' | 'runId' | 'startedAt' | 'shard'>, cell: CellResult): string {
  const outcome = esc(cell.outcome);
  const banner = cell.outcome === 'passed' ? '' : `<div class="banner o-${outcome}"><b>${outcome}</b>${MEANING[cell.outcome] ? ` <span class="meaning">(${MEANING[cell.outcome]})</span>` : ''}${cell.reason ? ` — ${esc(cell.reason)}` : ''}${cell.error ? `<br><code>${esc(cell.error.code)}</code> (${esc(cell.error.category)}): ${esc(cell.error.message)}` : ''}</div>`;
  const about: Array<[string, string]> = [
    ...Object.entries(cell.axes).map(([k, v]): [string, string] => [k, String(v)]),
    ['backend / accel', `${cell.backend} / ${cell.accel ?? '—'}`],
    ['started', cell.startedAt],
    ['duration', metricValue({ value: cell.durationMs, unit: 'ms' })],
    ['attempts', cell.attempts.map((a) => `${a.outcome}${a.reason ? ` (${a.reason})` : ''}`).join(' → ')],
    ...(cell.quarantine ? [['quarantine', quarantineNote(cell)] as [string, string]] : []),
  ];
  const body = [
    `<p><a href="../index.html">← ${esc(record.matrix.name)}</a></p>`,
    `<header><h1>${esc(cell.id)} <span class="pill o-${outcome}">${outcome}</span></h1>${environmentLine(record)}</header>`,
    banner,
    `<div class="columns"><div>${kv(about)}</div><div>${metricsTable(cell.metrics) || '<p class="muted">No timings.</p>'}</div></div>`,
    cell.isa ? `<h2>What the application needs from the CPU</h2>${renderCellIsa(cell)}` : '',
    cell.repeats ? `<h2>Runs</h2><p class="muted">Suites, timeline and log below are from run ${cell.repeats.detailsFrom}${cell.outcome === 'passed' ? '' : ' (the first that did not pass)'}.</p>${renderRuns(cell.repeats)}${renderRepeats([cell], { all: true, runs: true })}` : '',
    cell.evidence?.length ? `<h2>Evidence</h2>${renderEvidence(cell)}` : '',
    `<h2>Suites</h2>${cell.suites.map(renderSuite).join('') || '<p class="muted">No suites.</p>'}`,
    `<h2>Timeline</h2>${renderEvents(cell)}`,
    cell.artifacts?.length ? `<h2>Artifacts</h2>${renderArtifacts(cell)}` : '',
    cell.facts ? `<h2>Facts</h2>${renderFacts(cell)}` : '',
    `<h2>Console and application log</h2>${renderLog(cell.log)}`,
  ];
  return page(`${cell.id} — bothworlds`, body.join('\n'));
}

const EVIDENCE: Record<string, string> = {
  qmp: 'QMP transcript (every command, reply and event)',
  agent: 'guest-agent transcript',
  virsh: 'virsh commands',
  'domain-xml': 'libvirt domain XML',
  'libvirt-log': "libvirt's QEMU log for this domain",
};

/** Transcripts and libvirt files kept for this cell, linked relative to this page. */
function renderEvidence(cell: CellResult): string {
  const rows = (cell.evidence ?? []).map((e) => {
    const link = e.path && !e.error ? `<a href="../${e.path.split('/').map(encodeURIComponent).join('/')}">${esc(e.path.split('/').slice(-2).join('/'))}</a>` : esc(e.path);
    return `<tr><td>${esc(EVIDENCE[e.kind] ?? e.kind)}</td><td>${link}</td><td>${esc(metricValue({ value: e.bytes, unit: 'bytes' }))}${e.truncated ? ' (middle left out)' : ''}</td><td class="muted">${e.error ? esc(e.error) : ''}</td></tr>`;
  });
  return `<table><tr><th>what</th><th>file</th><th>kept</th><th></th></tr>${rows.join('')}</table>`;
}

/** Files fetched from the machine, linked relative to this page (cells/ID.html → cells/ID/artifacts/...). */
function renderArtifacts(cell: CellResult): string {
  const rows = (cell.artifacts ?? []).map((a) => {
    const name = a.path ? `<a href="../${a.path.split('/').map(encodeURIComponent).join('/')}">${esc(a.source)}</a>` : esc(a.source);
    const size = a.path ? `${esc(metricValue({ value: a.bytes, unit: 'bytes' }))}${a.truncated ? ` (the last part of ${esc(metricValue({ value: a.originalBytes ?? 0, unit: 'bytes' }))})` : ''}` : '';
    return `<tr><td>${name}</td><td>${size}</td><td class="muted">${a.error ? esc(a.error) : ''}</td></tr>`;
  });
  return `<table><tr><th>file on the machine</th><th>kept</th><th></th></tr>${rows.join('')}</table>`;
}

function kv(rows: Array<[string, string]>): string {
  return rows.length ? `<table class="kv">${rows.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('')}</table>` : '';
}

function metricsTable(metrics: Metrics): string {
  return kv(Object.entries(metrics).map(([k, m]) => [k, metricValue(m)]));
}

function renderSuite(suite: SuiteResult): string {
  const outcome = esc(suite.outcome);
  const checks = suite.checks.length
    ? `<table><tr><th>check</th><th>outcome</th><th>message</th></tr>${suite.checks
        .map((c) => `<tr class="${c.outcome === 'passed' ? '' : 'bad'}"><td>${esc(c.name)}</td><td class="t-${esc(c.outcome)}">${esc(c.outcome)}</td><td>${esc(c.message)}${c.metrics ? ` <span class="muted">${esc(Object.entries(c.metrics).map(([k, m]) => `${k} ${metricValue(m)}`).join(', '))}</span>` : ''}</td></tr>`)
        .join('')}</table>`
    : '<p class="muted">No checks recorded.</p>';
  const data = suite.data && Object.keys(suite.data).length ? `<details><summary>data</summary><pre>${esc(JSON.stringify(suite.data, null, 2))}</pre></details>` : '';
  return `<h3><i class="dot o-${outcome}"></i>${esc(suite.suite)}: <span class="t-${outcome}">${outcome}</span>${suite.reason ? ` — ${esc(suite.reason)}` : ''} <span class="muted">${esc(metricValue({ value: suite.durationMs, unit: 'ms' }))}</span></h3>${checks}${metricsTable(suite.metrics)}${data}`;
}

function renderEvents(cell: CellResult): string {
  const timeline = renderTimeline(cell);
  if (cell.events.length === 0) return timeline || '<p class="muted">No events.</p>';
  const at = (t: number | undefined) => (t === undefined ? '—' : `${t.toFixed(0)} ms`);
  const rows = cell.events.map(
    (e, i) =>
      `<tr class="${e.outcome === 'error' ? 'bad' : ''}"><td>${i + 1}. ${esc(e.label)}${eventTags(e)}</td><td class="t-${e.outcome === 'ok' ? 'passed' : e.outcome === 'error' ? 'error' : e.optional ? 'skipped' : 'incomplete'}">${esc(e.outcome)}${e.error ? `: ${esc(e.error.message)}` : e.reason ? `: ${esc(e.reason)}` : ''}</td><td>${at(e.requestedAtMs)}</td><td>${at(e.acknowledgedAtMs)}</td><td>${at(e.observedAtMs)}</td><td>${esc(Object.entries(e.metrics).map(([k, m]) => `${k} ${metricValue(m)}`).join(', '))}${e.detail && Object.keys(e.detail).length ? `<details><summary>detail</summary><pre>${esc(JSON.stringify(e.detail, null, 2))}</pre></details>` : ''}</td></tr>`,
  );
  return `${timeline}<table><tr><th>event</th><th>outcome</th><th>requested</th><th>acknowledged</th><th>observed</th><th>metrics</th></tr>${rows.join('')}</table>`;
}

/** Why an event is there (a suite asked for it) and whether it may be skipped. */
function eventTags(event: EventRecord): string {
  const tags = [event.addedBy ? `added by suite ${esc(event.addedBy)}` : '', event.optional ? 'optional' : ''].filter(Boolean);
  return tags.length ? ` <span class="muted">(${tags.join(', ')})</span>` : '';
}

function renderFacts(cell: CellResult): string {
  const f = cell.facts!;
  const pmu = pmuOf(cell);
  return kv([
    ['CPU', f.cpuModelName],
    ['CPUs online / present', `${f.onlineCpus} / ${f.presentCpus}`],
    ['MemTotal / MemAvailable', `${Math.round(f.memTotalKiB / 1024)} MiB / ${Math.round(f.memAvailableKiB / 1024)} MiB`],
    ['clocksource', `${f.clocksource} (available: ${f.availableClocksources.join(', ')})`],
    ['kernel', f.kernelRelease],
    ['PMU cycles / instructions', pmu ? `${pmu.cycles ? 'yes' : 'no'} / ${pmu.instructions ? 'yes' : 'no'}${f.pmu?.detail ? ` (${f.pmu.detail})` : ''}` : 'not probed'],
    ['flags', f.cpuFlags.join(' ')],
  ]);
}

/** Heartbeat lines (one every few ms) would drown the log: they get their own folded block. */
function renderLog(log: ConsoleLine[]): string {
  const line = (l: ConsoleLine) => `<span class="s-${esc(l.source)}">${esc((l.t / 1000).toFixed(3).padStart(8))} ${esc(l.source.padEnd(7))} ${esc(l.text)}</span>`;
  const main = log.filter((l) => l.source !== 'heartbeat');
  const beats = log.filter((l) => l.source === 'heartbeat');
  return `<pre class="log">${main.map(line).join('\n') || 'no output'}</pre>${beats.length ? `<details><summary>${beats.length} heartbeat lines</summary><pre class="log">${beats.map(line).join('\n')}</pre></details>` : ''}`;
}
