import { existsSync, readdirSync } from 'node:fs';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describeError } from '../core/errors.js';
import type { Transcript } from '../core/transcript.js';
import type { EvidencePolicy } from '../model/cell.js';
import type { Outcome } from '../model/outcome.js';
import type { EvidenceRecord } from '../model/result.js';
import type { StartedMachine } from '../machines/machine.js';
import { virsh } from '../machines/libvirt/virsh.js';

/** bothworlds' own libvirtd instances keep their logs here (scripts/services/libvirtd.sh). */
const LIBVIRT_STATE = '/var/lib/bothworlds';
/** A domain's log in libvirt keeps every start of that name: only this cell's part, at most this much. */
const MAX_LOG_BYTES = 256 * 1024;

const FILES: Record<EvidenceRecord['kind'], string> = {
  qmp: 'qmp-transcript.log',
  agent: 'agent-transcript.log',
  virsh: 'virsh-transcript.log',
  'domain-xml': 'domain.xml',
  'libvirt-log': 'libvirt-qemu.log',
};

/** Evidence is kept for every cell that did not pass (`failure`, the default), for all (`always`), or never. */
export function wantsEvidence(policy: EvidencePolicy | undefined, outcome: Outcome): boolean {
  if (policy === 'never') return false;
  return policy === 'always' || (outcome !== 'passed' && outcome !== 'skipped');
}

/**
 * Point the machine's current QMP and agent clients at the cell's transcript: a QEMU restored
 * ahead as a spare connected them before this cell existed (later ones, like a migration's
 * destination, are connected inside the cell and record by themselves).
 */
export function attachTranscript(machine: StartedMachine, transcript: Transcript): void {
  type Recordable = { setRecorder?(recorder: Transcript, note?: string): void };
  const { qmp, agent } = machine as unknown as { qmp?: Recordable; agent?: Recordable };
  const note = 'recording from here: this cell adopted a QEMU started before it (a restored spare or a golden guest)';
  qmp?.setRecorder?.(transcript, note);
  agent?.setRecorder?.(transcript, note);
}

/** What only a live machine can tell: a libvirt domain's XML (gone with the domain). Never throws. */
export async function captureLive(machine: StartedMachine): Promise<{ domain?: string; domainXml?: string }> {
  if (machine.backend !== 'libvirt') return {};
  const { uri, domain } = machine as unknown as { uri: string; domain: string };
  try {
    return { domain, domainXml: await virsh(uri, ['dumpxml', domain], { timeoutMs: 15_000 }) };
  } catch (error) {
    return { domain, domainXml: `<!-- virsh dumpxml failed: ${describeError(error)} -->\n` };
  }
}

/**
 * Write a cell attempt's evidence into `dir` (the cell's folder in the run): the QMP, agent and
 * virsh transcripts, and for libvirt the domain XML and libvirt's QEMU log lines of this cell from
 * every bothworlds libvirtd (a migrated domain has one on each side). Never throws: a file that
 * could not be written is recorded with why.
 */
export async function writeEvidence(options: {
  dir: string;
  runDir: string;
  transcript: Transcript | undefined;
  live: { domain?: string; domainXml?: string };
  /** Wall-clock start of the attempt: older lines of a reused domain name are not this cell's. */
  startedAt: Date;
}): Promise<EvidenceRecord[]> {
  const files: Array<{ kind: EvidenceRecord['kind']; name: string; text: string; truncated?: boolean }> = [];
  for (const { stream, text, truncated } of options.transcript?.texts() ?? []) files.push({ kind: stream, name: FILES[stream], text, truncated });
  if (options.live.domainXml) files.push({ kind: 'domain-xml', name: FILES['domain-xml'], text: options.live.domainXml });
  if (options.live.domain) {
    for (const host of libvirtHosts()) {
      const log = join(LIBVIRT_STATE, host, 'log', 'qemu', `${options.live.domain}.log`);
      if (!existsSync(log)) continue;
      const lines = await linesSince(log, options.startedAt);
      if (lines) files.push({ kind: 'libvirt-log', name: `${host}-qemu.log`, text: lines.text, truncated: lines.truncated });
    }
  }
  if (files.length === 0) return [];
  const records: EvidenceRecord[] = [];
  try {
    await mkdir(options.dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    return [{ kind: 'qmp', path: '', bytes: 0, error: `could not create ${options.dir}: ${describeError(error)}` }];
  }
  for (const file of files) {
    const path = join(options.dir, file.name);
    try {
      await writeFile(path, file.text, { mode: 0o600 });
      records.push({ kind: file.kind, path: relative(options.runDir, path), bytes: Buffer.byteLength(file.text), ...(file.truncated ? { truncated: true } : {}) });
    } catch (error) {
      records.push({ kind: file.kind, path: relative(options.runDir, path), bytes: 0, error: describeError(error) });
    }
  }
  return records;
}

function libvirtHosts(): string[] {
  if (!existsSync(LIBVIRT_STATE)) return [];
  return readdirSync(LIBVIRT_STATE).filter((name) => name.startsWith('libvirt-')).sort();
}

/**
 * The lines of a libvirt QEMU log from the first entry stamped at or after `since` (libvirt
 * stamps its own lines `YYYY-MM-DD HH:MM:SS.mmm+0000:`; QEMU's stderr lines follow unstamped),
 * read from the last MAX_LOG_BYTES of the file.
 */
async function linesSince(path: string, since: Date): Promise<{ text: string; truncated: boolean } | undefined> {
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    const start = Math.max(0, size - MAX_LOG_BYTES);
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    const lines = buffer.toString('utf8').split('\n');
    // A second's slack: libvirt's stamps have ms, the attempt's start is taken just before.
    const from = new Date(since.getTime() - 1_000).toISOString().replace('T', ' ').slice(0, 23);
    const first = lines.findIndex((line) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}/.test(line) && line.slice(0, 23) >= from);
    if (first < 0) return undefined;
    return { text: lines.slice(first).join('\n'), truncated: start > 0 && first === 0 };
  } finally {
    await handle.close();
  }
}
