import type { RunInfo } from '../run-record.js';
import { esc } from './escape.js';
import { STYLE } from './style.js';

/** A whole page: inline style and script only, nothing fetched, so one file is the whole report. */
export function page(title: string, body: string, script = ''): string {
  return `${pageHead(title)}${body}${pageTail(script)}`;
}

/** What comes before a page's body: for a page written in parts (the index of a large run). */
export function pageHead(title: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title><style>${STYLE}</style></head><body>`;
}

/** What comes after a page's body. */
export function pageTail(script = ''): string {
  return `${script ? `<script>${script}</script>` : ''}</body></html>\n`;
}

/** One line under the title: where and how this ran, so two reports are never confused. */
export function environmentLine(record: Pick<RunInfo, 'environment' | 'runId' | 'startedAt' | 'shard'>): string {
  const e = record.environment;
  const accel = e.kvm.usable ? 'KVM' : `TCG (${e.kvm.reason})`;
  const parts = [`${e.hostCpuModel}, ${e.cores} cores, ${Math.round(e.memoryMiB / 1024)} GiB`, e.qemuVersion?.replace(/^QEMU emulator version /, 'QEMU ') ?? 'no QEMU', accel, `run ${record.runId}`, record.startedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')];
  if (record.shard) parts.push(`shard ${record.shard.index}/${record.shard.total}`);
  return `<p class="env">${parts.map(esc).join(' · ')}</p>`;
}

/** The full environment fingerprint, at the bottom of the index. */
export function environmentTable(record: RunInfo): string {
  const e = record.environment;
  const rows: Array<[string, string]> = [
    ['host CPU', `${e.hostCpuModel} (${e.cores} cores, ${e.memoryMiB} MiB)`],
    ['host', `${e.hostOs}, kernel ${e.hostKernel}`],
    ['accelerator', `${e.kvm.usable ? 'KVM' : 'TCG'} — ${e.kvm.reason}`],
    ['QEMU', e.qemuVersion ?? '—'],
    ['libvirt / Docker', `${e.libvirtVersion ?? '—'} / ${e.dockerVersion ?? '—'}`],
    ...(e.localContainment ? [['local applications', e.localContainment] as [string, string]] : []),
    ['bothworlds / Node', `${e.harnessVersion} / ${e.nodeVersion}`],
    ['matrix', `${record.matrix.path} (sha256 ${record.matrix.hash.slice(0, 16)}…)`],
    ['run', `${record.runId}, started ${record.startedAt}${record.finishedAt ? `, finished ${record.finishedAt}` : ', not finished'}${record.shard ? `, shard ${record.shard.index}/${record.shard.total}` : ''}`],
  ];
  return `<table class="kv">${rows.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('')}</table>`;
}
