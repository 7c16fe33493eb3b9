import type { AxisValue } from '../model/cell.js';
import { closestName, didYouMean } from './did-you-mean.js';
import { BACKENDS, CPU_MODEL, hostMemoryMiB, KNOWN_AXES, MACHINE_TYPES, MAX_MAXMEM_MIB, MAX_MEMORY_SLOTS, maxCpusOf, unknownCpuModel } from './limits.js';
import type { DocPath } from './positions.js';
import type { CheckContext } from './raw.js';
import { parseSizeMiB } from './units.js';

/** Where axis values are written: every axis, defaults, and each include/exclude entry. */
export function* assignments(ctx: CheckContext): Generator<{ path: DocPath; axis: string; value: AxisValue; keyPath: DocPath }> {
  const { raw } = ctx;
  const axesKey = raw.axes ? 'axes' : 'matrix';
  for (const [axis, values] of Object.entries(raw.axes ?? raw.matrix ?? {})) {
    if (Array.isArray(values)) for (const [i, value] of values.entries()) yield { path: [axesKey, axis, i], axis, value, keyPath: [axesKey, axis] };
  }
  for (const [axis, value] of Object.entries(raw.defaults ?? {})) yield { path: ['defaults', axis], axis, value, keyPath: ['defaults', axis] };
  for (const list of ['include', 'exclude'] as const) {
    for (const [i, entry] of (Array.isArray(raw[list]) ? raw[list] : []).entries()) {
      for (const [axis, value] of Object.entries(entry ?? {})) yield { path: [list, i, axis], axis, value, keyPath: [list, i, axis] };
    }
  }
}

/** Machine types the matrix names (q35 when none): vCPU limits depend on them. */
function machineTypes(ctx: CheckContext): string[] {
  const types = new Set<string>();
  for (const { axis, value } of assignments(ctx)) if (axis === 'machine') types.add(String(value));
  return types.size > 0 ? [...types] : ['q35'];
}

/**
 * Axis names and values: a name close to a known axis is a typo unless declared in `user_axes`;
 * a value QEMU or this host cannot take is rejected with the limit it breaks.
 */
export function checkAxes(ctx: CheckContext): void {
  const { raw, at } = ctx;
  if (raw.axes && raw.matrix) at(['matrix'], 'use either `axes` or `matrix`, not both', true);
  const declared = new Set(Array.isArray(raw.user_axes) ? raw.user_axes : []);
  (Array.isArray(raw.user_axes) ? raw.user_axes : []).forEach((name, i) => {
    if (KNOWN_AXES.includes(name)) at(['user_axes', i], `"${name}" is a known axis, not a user axis`);
  });
  const scenarios = raw.scenarios ?? {};
  const hostNames = new Set((raw.hosts ?? []).flatMap((h) => [h.name, ...(h.labels ?? [])]));
  const types = machineTypes(ctx);
  const cpuLimit = Math.max(...types.map((t) => maxCpusOf(t) ?? 0));
  const widest = types.find((t) => maxCpusOf(t) === cpuLimit) ?? 'q35';
  const hostMiB = hostMemoryMiB();
  const reportedNames = new Set<string>();
  for (const { path, axis, value, keyPath } of assignments(ctx)) {
    if (!KNOWN_AXES.includes(axis) && !declared.has(axis)) {
      const close = closestName(axis, KNOWN_AXES);
      const where = keyPath.join('.');
      if (close && !reportedNames.has(where)) {
        reportedNames.add(where);
        at(keyPath, `unknown axis "${axis}" (did you mean "${close}"?); an axis of your own that close to a known one must be declared: user_axes: [${axis}]`, true);
      }
      continue;
    }
    const text = String(value);
    switch (axis) {
      case 'events':
        if (text !== 'none' && !(text in scenarios)) {
          at(path, `events value "${text}" names no scenario${didYouMean(text, Object.keys(scenarios))}; scenarios: ${Object.keys(scenarios).join(', ') || '(none defined)'}`);
        }
        break;
      case 'backend':
        if (!BACKENDS.includes(text)) at(path, `backend "${text}" is not one of ${BACKENDS.join(', ')}${didYouMean(text, BACKENDS)}`);
        break;
      case 'host':
        if (!hostNames.has(text)) at(path, `host "${text}" is neither a name nor a label in \`hosts\`${didYouMean(text, hostNames)}`);
        break;
      case 'vcpus':
      case 'maxvcpus':
        if (!(Number.isInteger(value) && Number(value) >= 1)) at(path, `${axis} must be a whole number of at least 1, not ${JSON.stringify(value)}`);
        else if (cpuLimit > 0 && Number(value) > cpuLimit) at(path, `${axis} ${text} is more than QEMU's limit of ${cpuLimit} vCPUs for machine ${widest}`);
        break;
      case 'slots':
        if (!(Number.isInteger(value) && Number(value) >= 1 && Number(value) <= MAX_MEMORY_SLOTS)) {
          at(path, `slots must be a whole number from 1 to ${MAX_MEMORY_SLOTS} (QEMU's limit of DIMM slots), not ${JSON.stringify(value)}`);
        }
        break;
      case 'memory':
      case 'maxmem':
        checkSize(ctx, path, axis, value, axis === 'memory' ? hostMiB : MAX_MAXMEM_MIB);
        break;
      case 'accel':
        if (!['auto', 'kvm', 'tcg'].includes(text)) at(path, `accel "${text}" is not auto, kvm or tcg`);
        break;
      case 'network':
        if (text !== 'user' && text !== 'none') at(path, `network "${text}" is not user (a NIC on QEMU's user-mode network) or none`);
        break;
      case 'balloon':
        if (typeof value !== 'boolean') at(path, `balloon must be true or false, not ${JSON.stringify(value)}`);
        break;
      case 'cpu':
        if (typeof value === 'boolean' || !CPU_MODEL.test(text)) {
          at(path, `cpu ${JSON.stringify(value)} is not a CPU model: a name with optional ,+flag/,-flag/,prop=value (e.g. Nehalem, max,-x2apic), no spaces or quotes`);
        } else {
          const unknown = unknownCpuModel(text, ctx.options.cpuModels);
          if (unknown) at(path, `cpu ${unknown}; \`${ctx.options.cpuModels!.binary} -cpu help\` lists them`);
        }
        break;
      case 'machine':
        if (maxCpusOf(text) === undefined) at(path, `machine "${text}" is not a known x86 machine type: ${MACHINE_TYPES.join(', ')} or a versioned pc-q35-X.Y / pc-i440fx-X.Y${didYouMean(text, MACHINE_TYPES)}`);
        break;
    }
  }
}

function checkSize(ctx: CheckContext, path: DocPath, axis: string, value: AxisValue, limitMiB: number): void {
  let mib: number;
  try {
    mib = parseSizeMiB(value as string | number);
  } catch {
    ctx.at(path, `${axis} "${value}" is not a size (use 512M, 1G)`);
    return;
  }
  if (!(mib >= 1)) ctx.at(path, `${axis} must be at least 1M, not ${JSON.stringify(value)}`);
  else if (mib > limitMiB) {
    ctx.at(
      path,
      axis === 'memory'
        ? `memory ${value} (${mib} MiB) is more than this host's memory (${limitMiB} MiB): the guest cannot boot here`
        : `maxmem ${value} (${mib} MiB) is above ${limitMiB / 1024} GiB: QEMU's 40-bit guest address space cannot hold it ("phys-bits too low")`,
    );
  }
}
