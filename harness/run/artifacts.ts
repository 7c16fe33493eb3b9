import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describeError } from '../core/errors.js';
import type { ArtifactSpec } from '../model/cell.js';
import type { Outcome } from '../model/outcome.js';
import type { ArtifactRecord } from '../model/result.js';
import type { StartedMachine } from '../machines/machine.js';

/**
 * Lists the regular files matching each glob on the machine, with their sizes, one per line, and
 * `- GLOB` for a glob that matched none. Globs
 * expand in the machine's own shell (IFS empty: no word splitting, pathname expansion only).
 * Symbolic links are never followed: on a shared host a planted link would copy any file root can read.
 */
const LIST_SCRIPT = `IFS=''
for p in "$@"; do
  n=0
  for f in $p; do
    if [ -f "$f" ] && [ ! -L "$f" ]; then printf '%s %s\\n' "$(stat -c %s -- "$f")" "$f"; n=1; fi
  done
  [ "$n" = 1 ] || printf -- '- %s\\n' "$p"
done`;

/** Whether this cell's artifacts are collected: on failure (anything but passed/skipped) by default, or always. */
export function wantsArtifacts(spec: ArtifactSpec | undefined, provisional: Outcome): spec is ArtifactSpec {
  if (!spec || spec.patterns.length === 0) return false;
  return spec.when === 'always' || (provisional !== 'passed' && provisional !== 'skipped');
}

/**
 * Copy the files matching the cell's artifact globs from the machine (guest agent on VMs, the
 * container, this host, an SSH host: whatever `exec` reaches) into `dir`. Each file keeps at most
 * `maxFileBytes` (its tail: the end of a log is what explains a failure); the cell keeps at most
 * `maxTotalBytes`. Never throws: what could not be fetched is recorded with why.
 */
export async function collectArtifacts(machine: StartedMachine, spec: ArtifactSpec, dir: string, runDir: string): Promise<ArtifactRecord[]> {
  const records: ArtifactRecord[] = [];
  let listing;
  try {
    listing = await machine.exec(['/bin/sh', '-c', LIST_SCRIPT, 'bw-artifacts', ...spec.patterns], { timeoutMs: 15_000 });
  } catch (error) {
    return [{ source: spec.patterns.join(' '), bytes: 0, error: `could not list the artifacts: ${describeError(error)}` }];
  }
  const lines = listing.stdout.split('\n');
  for (const line of lines) if (line.startsWith('- ')) records.push({ source: line.slice(2), bytes: 0, error: 'no file matched' });
  const found = lines
    .map((line) => /^(\d+) (.+)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ size: Number(m[1]), source: m[2]! }));
  if (found.length === 0) return records;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  let budget = spec.maxTotalBytes;
  const used = new Set<string>();
  for (const { size, source } of found) {
    if (budget <= 0) {
      records.push({ source, bytes: 0, error: `not fetched: the cell's artifacts already reached ${spec.maxTotalBytes} bytes` });
      continue;
    }
    const keep = Math.min(size, spec.maxFileBytes, budget);
    try {
      const data = await fetchTail(machine, source, keep);
      const file = join(dir, uniqueName(source, used));
      await writeFile(file, data, { mode: 0o600, flag: 'wx' });
      budget -= data.length;
      records.push({ source, path: relative(runDir, file), bytes: data.length, ...(data.length < size ? { truncated: true, originalBytes: size } : {}) });
    } catch (error) {
      records.push({ source, bytes: 0, error: describeError(error) });
    }
  }
  return records;
}

/** The last `bytes` bytes of a file, base64 through exec so binary content survives any backend. */
async function fetchTail(machine: StartedMachine, path: string, bytes: number): Promise<Buffer> {
  const result = await machine.exec(['/bin/sh', '-c', 'tail -c "$1" -- "$2" | base64', 'bw-artifact', String(bytes), path], { timeoutMs: 30_000 });
  if (result.exitCode !== 0) throw new Error(`reading ${path} failed (exit ${result.exitCode}): ${result.stderr.trim()}`);
  return Buffer.from(result.stdout, 'base64');
}

/** A flat, safe file name for a machine path: /var/log/redis/redis.log → var_log_redis_redis.log. */
function uniqueName(source: string, used: Set<string>): string {
  const base = source.replace(/^\/+/, '').replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_').slice(-120) || 'artifact';
  let name = base;
  for (let n = 2; used.has(name); n++) name = `${base}.${n}`;
  used.add(name);
  return name;
}
