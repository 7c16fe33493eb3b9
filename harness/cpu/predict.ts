import type { Cell } from '../model/cell.js';
import { describeNeeds } from './features.js';
import { hostCpuFlags } from './host-flags.js';
import { modelFlags, type ModelFlags } from './model-flags.js';
import type { BinaryIsa } from './scan.js';
import type { IsaPrediction, LackingFlag } from '../model/isa.js';

export type { IsaEvidence, IsaPrediction, LackingFlag } from '../model/isa.js';

/** Every ELF of app.files analysed (scripts and data are passed over). */
export async function analyseAppFiles(files: string[]): Promise<BinaryIsa[]> {
  const out: BinaryIsa[] = [];
  // The x86 decoder (iced-x86, a WASM module of ~23 MiB RSS) loads only when a cell has files to scan.
  const { analyseFile } = await import('./scan.js');
  for (const file of files) {
    if (file.startsWith('@tools/')) continue;
    const isa = await analyseFile(file).catch(() => undefined);
    if (isa) out.push(isa);
  }
  return out;
}

/** The flags of each cell's CPU, known before the run: QEMU's model expansion, or this host's for local/container cells. */
export async function cellCpuFlags(cells: Cell[], accel?: 'kvm' | 'tcg'): Promise<Map<string, { cpu: string; flags?: string[]; unknown?: string }>> {
  const virtual = cells.filter((c) => (c.backend === 'qemu' || c.backend === 'libvirt') && !c.machine.cpuModel.startsWith('host'));
  const models: Map<string, ModelFlags> = virtual.length ? await modelFlags(virtual.map((c) => c.machine.cpuModel), accel) : new Map();
  const out = new Map<string, { cpu: string; flags?: string[]; unknown?: string }>();
  for (const cell of cells) {
    const model = cell.machine.cpuModel;
    if (cell.backend === 'ssh') out.set(cell.id, { cpu: cell.host?.name ?? 'the SSH host', unknown: 'the host\'s CPU flags are read once connected' });
    else if (cell.backend === 'local' || cell.backend === 'container' || model.startsWith('host')) out.set(cell.id, { cpu: 'this host', flags: hostCpuFlags() });
    else {
      const found = models.get(model);
      out.set(cell.id, found ? { cpu: model, flags: found.flags } : { cpu: model, unknown: `QEMU did not expand the CPU model ${model}` });
    }
  }
  return out;
}

/** Predict each cell before any machine starts: which flags its application needs that its CPU lacks. */
export async function predictCells(cells: Cell[], options: { accel?: 'kvm' | 'tcg' } = {}): Promise<Map<string, IsaPrediction>> {
  const out = new Map<string, IsaPrediction>();
  const withFiles = cells.filter((c) => c.app.files.length > 0);
  if (withFiles.length === 0) return out;
  const cpus = await cellCpuFlags(withFiles, options.accel);
  for (const cell of withFiles) {
    out.set(cell.id, predictCell(await analyseAppFiles(cell.app.files), cpus.get(cell.id)!));
  }
  return out;
}

export function predictCell(binaries: BinaryIsa[], cpu: { cpu: string; flags?: string[]; unknown?: string }): IsaPrediction {
  const needs = [...new Set(binaries.flatMap((b) => b.needs))].sort();
  const dispatch = binaries.filter((b) => b.dispatch).map((b) => `${b.file}: ${b.dispatch!.how.join('; ')}${b.dispatch!.flags.length ? ` (may use ${b.dispatch!.flags.join(', ')})` : ''}`);
  const base = { needs, ...(needs.length ? { needsText: describeNeeds(needs) } : {}), cpu: cpu.cpu, dispatch };
  if (!cpu.flags) return { ...base, lacking: [], ...(needs.length ? { unknown: cpu.unknown ?? 'the CPU flags are not known' } : {}) };
  const has = new Set(cpu.flags);
  const lacking: LackingFlag[] = [];
  for (const binary of binaries) {
    for (const flag of binary.needs) {
      if (has.has(flag) || lacking.some((l) => l.flag === flag)) continue;
      const example = binary.found[flag];
      const declared = binary.declared?.flags.includes(flag);
      lacking.push({
        flag,
        evidence: declared ? 'declared' : 'scan',
        file: binary.file,
        ...(declared ? { detail: `declares ${binary.declared!.level}` } : example ? { detail: `${example.mnemonic}${example.function ? ` in ${example.function}` : ''} at ${example.address}` } : {}),
      });
    }
  }
  if (lacking.length === 0) return { ...base, lacking };
  return { ...base, lacking, expected: `expected to fail: ${describeLacking(lacking)}, which ${cpu.cpu} lacks` };
}

/** "avx2 (found by scan: vpbroadcastd in main at 0x40151e in avx2)", "avx (declared: x86-64-v3 in app)". */
export function describeLacking(lacking: LackingFlag[]): string {
  const parts = lacking.map((l) => `${l.flag} (${l.evidence === 'declared' ? 'declared' : l.evidence === 'sigill' ? 'seen as SIGILL' : 'found by scan'}${l.detail ? `: ${l.detail}` : ''} in ${l.file})`);
  return `the application needs ${parts.join(', ')}`;
}

/** A cell's prediction at the start of its run (never fails the cell: what could not be known is said). */
export async function predictForCell(cell: Cell, kvmUsable: boolean): Promise<IsaPrediction | undefined> {
  if (cell.app.files.length === 0) return undefined;
  const accel = kvmUsable && cell.machine.accel !== 'tcg' ? 'kvm' : 'tcg';
  try {
    return (await predictCells([cell], { accel })).get(cell.id);
  } catch (error) {
    return { needs: [], lacking: [], dispatch: [], unknown: `the prediction failed: ${(error as Error).message}` };
  }
}

/** The prediction with what a SIGILL showed: the faulting instruction, and its flag as evidence. */
export function withSigill(prediction: IsaPrediction | undefined, fault: { instruction: string; flags: string[]; file: string; address: string } | undefined): IsaPrediction | undefined {
  if (!fault) return prediction;
  const base = prediction ?? { needs: [], lacking: [], dispatch: [] };
  const flag = fault.flags[0];
  const seen = { flag: flag ?? '', evidence: 'sigill' as const, file: fault.file, detail: `${fault.instruction} at ${fault.address}` };
  // A SIGILL is the strongest evidence: it replaces a scan's or declaration's for the same flag.
  const lacking = flag ? [...base.lacking.filter((l) => l.flag !== flag), seen] : base.lacking;
  return { ...base, lacking, sigill: { instruction: fault.instruction, ...(flag ? { flag } : {}), file: fault.file, address: fault.address } };
}
