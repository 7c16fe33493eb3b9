import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { cacheDir } from '../core/cache-dir.js';
import { InfrastructureError } from '../core/errors.js';
import { QEMU_BINARY, qemuVersion } from '../machines/qemu/binary.js';
import { qemuFeatureToFlag } from './qemu-flags.js';

/** The flags a CPU model gives a guest under one accelerator, as /proc/cpuinfo names them. */
export interface ModelFlags {
  model: string;
  accel: 'kvm' | 'tcg';
  flags: string[];
  /** Features of the model the accelerator cannot give (TCG: pcid, rtm, hle on Haswell). */
  unavailable: string[];
}

/**
 * The accelerator to ask about when the caller does not know (bothworlds list): KVM only when the
 * harness's last KVM probe (a real boot, cached in kvm-probe.json) found it usable. /dev/kvm alone
 * proves nothing, and QEMU then reports every feature of every model as unavailable.
 */
export function defaultAccel(): 'kvm' | 'tcg' {
  if (process.env.BOTHWORLDS_KVM === '0') return 'tcg';
  try {
    const saved = JSON.parse(readFileSync(join(cacheDir(), 'kvm-probe.json'), 'utf8')) as { probe?: { usable?: boolean } };
    return saved.probe?.usable === true ? 'kvm' : 'tcg';
  } catch {
    return 'tcg';
  }
}

const memory = new Map<string, Promise<Map<string, ModelFlags>>>();

/**
 * Ask QEMU which flags each named model has: `query-cpu-model-expansion` (full) gives the model's
 * properties, `query-cpu-definitions` what this accelerator cannot give (`unavailable-features`);
 * a `-machine none` QEMU answers both in ~50 ms. Cached on disk per QEMU version, accelerator and
 * model list. Models QEMU does not know are left out. `host-*` models are the host's: not asked.
 */
export async function modelFlags(models: string[], accel: 'kvm' | 'tcg' = defaultAccel()): Promise<Map<string, ModelFlags>> {
  const wanted = [...new Set(models)].filter((m) => !m.startsWith('host')).sort();
  if (wanted.length === 0) return new Map();
  const version = (await qemuVersion()).text;
  const key = createHash('sha256').update(JSON.stringify([version, accel, wanted])).digest('hex').slice(0, 16);
  let result = memory.get(key);
  if (!result) {
    result = loadOrQuery(key, wanted, accel);
    memory.set(key, result);
    result.catch(() => memory.delete(key));
  }
  return result;
}

async function loadOrQuery(key: string, models: string[], accel: 'kvm' | 'tcg'): Promise<Map<string, ModelFlags>> {
  const file = join(cacheDir(), 'cpu-models', `${key}.json`);
  try {
    return new Map((JSON.parse(await readFile(file, 'utf8')) as ModelFlags[]).map((m) => [m.model, m]));
  } catch {
    // Not cached yet (or unreadable): ask QEMU.
  }
  const found = await queryQemu(models, accel);
  await mkdir(join(cacheDir(), 'cpu-models'), { recursive: true });
  await writeFile(`${file}.tmp`, JSON.stringify([...found.values()]));
  await rename(`${file}.tmp`, file);
  return found;
}

interface QmpReply {
  id?: string;
  return?: unknown;
  error?: { class: string; desc: string };
}

async function queryQemu(models: string[], accel: 'kvm' | 'tcg'): Promise<Map<string, ModelFlags>> {
  // `-cpu Nehalem,+avx2` style entries: the model is asked with its switched features.
  const parsed = models.map((m) => ({ model: m, ...parseModel(m) }));
  const commands = [
    { execute: 'qmp_capabilities' },
    { execute: 'query-cpu-definitions', id: 'defs' },
    ...parsed.map((m, i) => ({ execute: 'query-cpu-model-expansion', id: `m${i}`, arguments: { type: 'full', model: Object.keys(m.props).length ? { name: m.name, props: m.props } : { name: m.name } } })),
    { execute: 'quit' },
  ];
  const argv = ['-machine', 'none', '-accel', accel, '-nodefaults', '-no-user-config', '-display', 'none', '-qmp', 'stdio'];
  const run = await execa(QEMU_BINARY, argv, { input: commands.map((c) => JSON.stringify(c)).join('\n'), reject: false, timeout: 30_000 });
  const replies = new Map<string, QmpReply>();
  for (const line of run.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const reply = JSON.parse(line) as QmpReply;
    if (reply.id) replies.set(reply.id, reply);
  }
  const definitions = replies.get('defs')?.return as Array<{ name: string; 'unavailable-features'?: string[] }> | undefined;
  if (!definitions) {
    throw new InfrastructureError('CPU_MODELS_QUERY', `${QEMU_BINARY} -machine none did not list its CPU models (exit ${run.exitCode}): ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`, { details: { argv } });
  }
  const unavailableOf = new Map(definitions.map((d) => [d.name, (d['unavailable-features'] ?? []).map(qemuFeatureToFlag)]));
  const out = new Map<string, ModelFlags>();
  parsed.forEach((m, i) => {
    const expansion = replies.get(`m${i}`)?.return as { model?: { props?: Record<string, unknown> } } | undefined;
    if (!expansion?.model?.props) return;
    const unavailable = new Set(unavailableOf.get(m.name) ?? []);
    const flags = Object.entries(expansion.model.props)
      .filter(([, on]) => on === true)
      .map(([name]) => qemuFeatureToFlag(name))
      .filter((flag) => !unavailable.has(flag));
    out.set(m.model, { model: m.model, accel, flags: [...new Set(flags)].sort(), unavailable: [...unavailable].sort() });
  });
  return out;
}

/** "Nehalem,+avx2,-sse4.2,x2apic=on" → the model and its switched boolean features. */
export function parseModel(argument: string): { name: string; props: Record<string, boolean> } {
  const [name = '', ...rest] = argument.split(',');
  const props: Record<string, boolean> = {};
  for (const part of rest) {
    if (part.startsWith('+') || part.startsWith('-')) props[part.slice(1)] = part.startsWith('+');
    else {
      const [key, value] = part.split('=');
      if (key && ['on', 'true', 'yes'].includes(value ?? '')) props[key] = true;
      else if (key && ['off', 'false', 'no'].includes(value ?? '')) props[key] = false;
    }
  }
  return { name, props };
}
