import type { CellResult } from '../../model/result.js';
import type { CellSummary } from '../cell-summary.js';
import { appNeeds, EVIDENCE_LABEL, modelBreaks } from '../isa-summary.js';
import { esc } from './escape.js';

/** Cell page: what the application's binaries need, what this cell's CPU lacks (predicted before the run), and a SIGILL's instruction. */
export function renderCellIsa(cell: CellResult): string {
  const isa = cell.isa;
  if (!isa) return '';
  const parts = [`<p>The application needs <b>${esc(isa.needsText ?? 'nothing beyond x86-64')}</b>${isa.cpu ? `; this cell runs on ${esc(isa.cpu)}` : ''}.</p>`];
  if (isa.expected) parts.push(`<p class="t-failed"><b>Predicted before the run:</b> ${esc(isa.expected)}.</p>`);
  else if (isa.unknown) parts.push(`<p class="muted">Not predicted: ${esc(isa.unknown)}.</p>`);
  else if (isa.needs.length) parts.push('<p class="muted">Predicted before the run: this CPU has every flag the application needs.</p>');
  if (isa.sigill) parts.push(`<p><b>SIGILL</b> at <code>${esc(isa.sigill.instruction)}</code> in ${esc(isa.sigill.file)} at ${esc(isa.sigill.address)}${isa.sigill.flag ? ` (needs ${esc(isa.sigill.flag)})` : ''}.</p>`);
  if (isa.lacking.length) {
    parts.push(`<table><tr><th>flag lacking</th><th>evidence</th><th>where</th></tr>${isa.lacking.map((l) => `<tr><td class="flag-off">${esc(l.flag)}</td><td>${esc(EVIDENCE_LABEL[l.evidence])}</td><td>${esc(`${l.detail ? `${l.detail} ` : ''}in ${l.file}`)}</td></tr>`).join('')}</table>`);
  }
  for (const d of isa.dispatch) parts.push(`<p class="muted">Chooses code at run time (not predicted): ${esc(d)}</p>`);
  return parts.join('');
}

/** Index page: "What each CPU model breaks", rows the CPU models, cells the needed flags each lacks with the evidence. */
export function renderModelBreaks(cells: readonly CellSummary[]): string {
  const rows = modelBreaks(cells);
  if (rows.length === 0) return '';
  const needs = appNeeds(cells);
  const body = rows.map((row) => {
    const flags = row.flags.length
      ? row.flags.map((f) => `<span class="flag-off" title="${esc(f.detail.join('; '))}"><b>${esc(f.flag)}</b> (${esc(f.evidence.map((e) => EVIDENCE_LABEL[e]).join(', '))})</span>`).join(' ')
      : '<span class="flag-on">nothing: every needed flag is there</span>';
    return `<tr><td>${esc(row.model)}</td><td>${flags}</td><td>${row.failed} of ${row.cells} failed</td></tr>`;
  });
  return `<p class="muted">The application needs ${esc(needs ?? 'nothing beyond x86-64')}. Declared: the binary's GNU property note; found by scan: an instruction in code that runs whatever the CPU; seen as SIGILL: the kernel's trap. Hover a flag for the instruction.</p><table><tr><th>CPU model</th><th>needed flags it lacks</th><th>cells</th></tr>${body.join('')}</table>`;
}
