import type { IsaEvidence } from '../model/isa.js';
import type { CellSummary } from './cell-summary.js';

export interface ModelBreak {
  /** The CPU model (the cell's `cpu` axis) or "this host". */
  model: string;
  /** Flags the application needs and this model lacks, each with how that is known. */
  flags: Array<{ flag: string; evidence: IsaEvidence[]; detail: string[] }>;
  /** Cells of this model, and how many of them failed. */
  cells: number;
  failed: number;
}

const EVIDENCE_ORDER: IsaEvidence[] = ['sigill', 'declared', 'scan'];

/** "What each CPU model breaks": per CPU model, the needed flags it lacks, merged over the run's cells. */
export function modelBreaks(cells: readonly CellSummary[]): ModelBreak[] {
  const byModel = new Map<string, ModelBreak>();
  for (const cell of cells) {
    if (!cell.isa) continue;
    const model = cell.backend === 'local' || cell.backend === 'container' ? 'this host' : String(cell.axes.cpu ?? cell.isa.cpu ?? cell.backend);
    const row = byModel.get(model) ?? { model, flags: [], cells: 0, failed: 0 };
    byModel.set(model, row);
    row.cells++;
    if (cell.outcome === 'failed') row.failed++;
    for (const lacking of cell.isa.lacking) {
      let entry = row.flags.find((f) => f.flag === lacking.flag);
      if (!entry) row.flags.push((entry = { flag: lacking.flag, evidence: [], detail: [] }));
      if (!entry.evidence.includes(lacking.evidence)) entry.evidence.push(lacking.evidence);
      const detail = `${lacking.detail ? `${lacking.detail} ` : ''}in ${lacking.file}`;
      if (!entry.detail.includes(detail)) entry.detail.push(detail);
    }
  }
  for (const row of byModel.values()) {
    row.flags.sort((a, b) => a.flag.localeCompare(b.flag));
    for (const f of row.flags) f.evidence.sort((a, b) => EVIDENCE_ORDER.indexOf(a) - EVIDENCE_ORDER.indexOf(b));
  }
  return [...byModel.values()].sort((a, b) => b.flags.length - a.flags.length || a.model.localeCompare(b.model));
}

export const EVIDENCE_LABEL: Record<IsaEvidence, string> = { sigill: 'seen as SIGILL', declared: 'declared', scan: 'found by scan' };

/** What the run's application needs, from the first cell that knows: "x86-64-v3 (avx, avx2)". */
export function appNeeds(cells: readonly CellSummary[]): string | undefined {
  const known = cells.find((c) => c.isa && c.isa.needs.length > 0)?.isa;
  return known?.needsText;
}
