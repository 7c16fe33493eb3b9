import type { CellResult } from '../../model/result.js';
import { esc } from './escape.js';

const NOTABLE = /^(vmx|svm|arch_perfmon|hypervisor|avx.*|aes|x2apic|tsc_deadline_timer|constant_tsc|nonstop_tsc|pcid|invpcid|rdseed|rtm|hle)$/;

/** One column per CPU model (or physical host) seen in the run; rows are the flags that differ. */
export function renderFlags(cells: CellResult[], hostFlags: string[]): string {
  const columns = new Map<string, string[]>();
  for (const cell of cells) {
    if (!cell.facts) continue;
    const label = cell.backend === 'local' || cell.backend === 'ssh' ? `${cell.backend} (physical)` : `${cell.axes.cpu ?? cell.facts.cpuModelName} (${cell.backend})`;
    if (!columns.has(label)) columns.set(label, cell.facts.cpuFlags);
  }
  if (columns.size === 0) return '<p class="muted">No cell reached a point where its CPU flags could be read.</p>';
  const all = [...columns.values(), hostFlags];
  const union = [...new Set(all.flat())].sort();
  const differing = union.filter((flag) => !all.every((flags) => flags.includes(flag)));
  if (differing.length === 0) return '<p>Every CPU model in this run exposes the same flags as the host.</p>';
  const head = `<tr><th>flag</th><th>this host</th>${[...columns.keys()].map((l) => `<th>${esc(l)}</th>`).join('')}</tr>`;
  const rows = differing
    .sort((a, b) => Number(NOTABLE.test(b)) - Number(NOTABLE.test(a)) || a.localeCompare(b))
    .map((flag) => {
      const mark = (flags: string[]) => (flags.includes(flag) ? '<td class="flag-on">✓</td>' : '<td class="flag-off">—</td>');
      return `<tr><td class="${NOTABLE.test(flag) ? 'notable' : ''}">${esc(flag)}</td>${mark(hostFlags)}${[...columns.values()].map(mark).join('')}</tr>`;
    });
  return `<p class="muted">${differing.length} flags differ between the host and the CPU models of this run (notable ones first).</p><table>${head}${rows.join('')}</table>`;
}
