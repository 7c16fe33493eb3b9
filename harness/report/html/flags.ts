import type { CellResult } from '../../model/result.js';
import { esc } from './escape.js';

/** Flags a person asks about first: virtualisation, PMU, hypervisor bit, vector extensions, TSC. */
const NOTABLE = /^(vmx|svm|arch_perfmon|hypervisor|avx.*|aes|x2apic|tsc_deadline_timer|constant_tsc|nonstop_tsc|pcid|invpcid|rdseed|rtm|hle)$/;

interface Column {
  label: string;
  detail: string;
  flags: Set<string>;
}

/**
 * CPU flags side by side: one column per backend and CPU model (or physical host, or container)
 * seen in the run, the host that ran the harness as the reference column; rows are only the flags
 * that differ somewhere, notable ones first. A `cpu` value only shapes a VM: on a container or a
 * physical host the column is that machine's own CPU, and says the `cpu` value did not apply.
 */
export function renderFlags(cells: readonly FlagSource[], hostFlags: string[]): string {
  const columns = new FlagColumns();
  for (const cell of cells) columns.add(cell);
  return columns.render(hostFlags);
}

type FlagSource = Pick<CellResult, 'facts' | 'backend' | 'axes'>;

/** The columns of the flags table, gathered a cell at a time: the first cell of each column speaks for it. */
export class FlagColumns {
  private readonly columns = new Map<string, Column>();

  add(cell: FlagSource): void {
    if (!cell.facts) return;
    const { label, detail } = columnOf(cell);
    if (!this.columns.has(label)) this.columns.set(label, { label, detail: `${cell.facts.cpuModelName} · ${detail}${cell.facts.cpuFlags.length} flags`, flags: new Set(cell.facts.cpuFlags) });
  }

  render(hostFlags: string[]): string {
    return renderColumns(this.columns, hostFlags);
  }
}

function renderColumns(columns: Map<string, Column>, hostFlags: string[]): string {
  if (columns.size === 0) return '<p class="muted">No cell reached a point where its CPU flags could be read.</p>';
  // Physical hosts next to the reference host, then the virtual CPU models.
  const ordered = [...columns.values()].sort((a, b) => Number(isVirtual(a.label)) - Number(isVirtual(b.label)));
  const all = [{ label: 'this host', detail: `harness host · ${hostFlags.length} flags`, flags: new Set(hostFlags) }, ...ordered];
  const differing = [...new Set(all.flatMap((c) => [...c.flags]))].filter((flag) => !all.every((c) => c.flags.has(flag)));
  if (differing.length === 0) return '<p>Every CPU model in this run exposes the same flags as the host.</p>';
  differing.sort((a, b) => a.localeCompare(b));
  const head = `<tr><th>flag</th>${all.map((c, i) => `<th title="${esc(c.detail)}"${i === 0 ? ' class="ref"' : ''}>${esc(c.label)}<br><span class="muted">${esc(c.detail.split(' · ').at(-1))}</span></th>`).join('')}</tr>`;
  const row = (flag: string) => {
    const mark = (c: Column) => (c.flags.has(flag) ? '<td class="flag-on">✓</td>' : '<td class="flag-off">✗</td>');
    return `<tr><td${NOTABLE.test(flag) ? ' class="notable"' : ''}>${esc(flag)}</td>${all.map(mark).join('')}</tr>`;
  };
  const notable = differing.filter((f) => NOTABLE.test(f));
  const others = differing.filter((f) => !NOTABLE.test(f));
  // Real models differ in dozens of flags: the notable ones stay in view, the rest fold away.
  const rest = others.length
    ? notable.length
      ? `<details><summary>${others.length} more flags differ</summary><div class="scroll"><table>${head}${others.map(row).join('')}</table></div></details>`
      : `<div class="scroll"><table>${head}${others.map(row).join('')}</table></div>`
    : '';
  return `<p class="muted">${differing.length} flags differ between this host and the CPU models of the run${notable.length ? `; the ${notable.length} notable ones (virtualisation, PMU, hypervisor bit, vector extensions, TSC) first` : ''}. Hover a column for the full model name.</p>${notable.length ? `<div class="scroll"><table>${head}${notable.map(row).join('')}</table></div>` : ''}${rest}`;
}

const VM_BACKENDS = new Set(['qemu', 'libvirt']);

/**
 * A VM's column is its backend and model ("max · qemu"): the same model name means different
 * flags on libvirt (host-model fallbacks) and QEMU. Elsewhere the `cpu` axis cannot be honoured.
 */
function columnOf(cell: FlagSource): { label: string; detail: string } {
  if (VM_BACKENDS.has(cell.backend)) return { label: `${String(cell.axes.cpu ?? cell.facts!.cpuModelName)} · ${cell.backend}`, detail: '' };
  const kind = cell.backend === 'container' ? 'container' : 'physical';
  const host = cell.backend === 'ssh' && cell.axes.host !== undefined ? ` ${String(cell.axes.host)}` : '';
  const ignored = cell.axes.cpu !== undefined ? `cpu: ${String(cell.axes.cpu)} n/a (${kind}: its own CPU) · ` : '';
  return { label: `${cell.backend}${host} (${kind})`, detail: ignored };
}

function isVirtual(label: string): boolean {
  return !/\((physical|container)\)$/.test(label);
}
