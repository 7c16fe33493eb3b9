/** `virsh domstats` prints `key=value` lines per domain: structured enough to read without prose parsing. */
export function parseDomstats(text: string): Record<string, string> {
  const stats: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^\s*([\w.]+)=(.*)$/.exec(line);
    if (match) stats[match[1]!] = match[2]!.trim();
  }
  return stats;
}

export interface JobInfo {
  totalMs?: number;
  downtimeMs?: number;
  setupMs?: number;
  dataProcessedBytes?: number;
  memoryBandwidthBytesPerS?: number;
  dirtyRatePagesPerS?: number;
  iteration?: number;
  raw: Record<string, string>;
}

const UNITS: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };

function bytes(text: string | undefined): number | undefined {
  const match = /^([\d.]+)\s*(B|KiB|MiB|GiB|TiB)(\/s)?$/.exec(text?.trim() ?? '');
  return match ? Number(match[1]) * UNITS[match[2]!]! : undefined;
}

function millis(text: string | undefined): number | undefined {
  const match = /^([\d.]+)\s*ms$/.exec(text?.trim() ?? '');
  return match ? Number(match[1]) : undefined;
}

/**
 * `virsh domjobinfo --completed`: the one libvirt output without a structured form. Lines are
 * `Key: value unit`; unknown keys are kept raw, unknown units are never guessed.
 */
export function parseJobInfo(text: string): JobInfo {
  const raw: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const index = line.indexOf(':');
    if (index > 0) raw[line.slice(0, index).trim()] = line.slice(index + 1).trim();
  }
  const info: JobInfo = { raw };
  const set = <K extends keyof JobInfo>(key: K, value: JobInfo[K] | undefined) => {
    if (value !== undefined) info[key] = value;
  };
  set('totalMs', millis(raw['Time elapsed']));
  set('downtimeMs', millis(raw['Total downtime']));
  set('setupMs', millis(raw['Setup time']));
  set('dataProcessedBytes', bytes(raw['Data processed']));
  set('memoryBandwidthBytesPerS', bytes(raw['Memory bandwidth']));
  const dirty = /^([\d.]+) pages\/s$/.exec(raw['Dirty rate'] ?? '');
  if (dirty) info.dirtyRatePagesPerS = Number(dirty[1]);
  if (raw['Iteration'] !== undefined) info.iteration = Number(raw['Iteration']);
  return info;
}
