import type { Cell } from '../model/cell.js';
import { ConfigError } from '../core/errors.js';
import { eventKinds, knownEventKinds } from '../inject/registry.js';
import { machineLacks } from '../matrix/check-cells.js';
import { didYouMean } from '../matrix/did-you-mean.js';
import { CPU_MODEL, hostMemoryMiB, maxCpusOf, unknownCpuModel } from '../matrix/limits.js';
import { isSuitePath } from '../matrix/check-suites.js';
import { qemuCpuNames } from '../machines/qemu/cpu-models.js';
import { suiteCatalog } from './suite-registry.js';

const isVm = (cell: Cell): boolean => cell.backend === 'qemu' || cell.backend === 'libvirt';

/**
 * A cell built in code (`defineCell`, `startCell`) gets the checks a matrix file gets at load, before
 * any machine starts: one ConfigError (CELL_INPUT) listing every problem, each naming the field.
 * Without it `cpu: 'Nehalm'` or `at(2000, 'ballon')` surfaced as an error cell after a boot.
 */
export async function checkCellInput(cell: Cell): Promise<void> {
  const problems = [...machineProblems(cell), ...(await cpuModelProblems(cell)), ...eventProblems(cell), ...suiteProblems(cell)];
  // A systemd unit (app.unit) is the application by itself: a matrix needs no `command` with it either.
  if (cell.app.command.length === 0 && !cell.app.unit) problems.push('app.command is empty: give the program and its arguments (or app.unit)');
  if (!(cell.app.timeoutMs > 0)) problems.push(`app.timeout must be more than 0, not ${cell.app.timeoutMs} ms`);
  if (!(cell.timeoutMs > 0)) problems.push(`timeout must be more than 0, not ${cell.timeoutMs} ms`);
  if (problems.length > 0) throw new ConfigError('CELL_INPUT', `cell ${cell.id}: ${problems.join('; ')}`, { details: { problems } });
}

function machineProblems(cell: Cell): string[] {
  if (!isVm(cell)) return [];
  const { machine } = cell;
  const out: string[] = [];
  const limit = maxCpusOf(machine.machineType);
  if (limit === undefined) out.push(`machine.machineType "${machine.machineType}" is not a known x86 machine type`);
  if (!(Number.isInteger(machine.vcpus) && machine.vcpus >= 1)) out.push(`machine.vcpus must be a whole number of at least 1, not ${machine.vcpus}`);
  if (!(Number.isInteger(machine.maxVcpus) && machine.maxVcpus >= machine.vcpus)) out.push(`machine.maxvcpus (${machine.maxVcpus}) must be a whole number of at least vcpus (${machine.vcpus})`);
  else if (limit !== undefined && machine.maxVcpus > limit) out.push(`machine.maxvcpus ${machine.maxVcpus} is more than QEMU's limit of ${limit} vCPUs for machine ${machine.machineType}`);
  if (!(machine.memoryMiB >= 1)) out.push(`machine.memory must be at least 1M, not ${machine.memoryMiB} MiB`);
  else if (machine.memoryMiB > hostMemoryMiB()) out.push(`machine.memory ${machine.memoryMiB} MiB is more than this host's memory (${hostMemoryMiB()} MiB)`);
  if (machine.maxMemoryMiB !== undefined && machine.maxMemoryMiB < machine.memoryMiB) out.push(`machine.maxmem (${machine.maxMemoryMiB} MiB) is below memory (${machine.memoryMiB} MiB)`);
  if (!CPU_MODEL.test(machine.cpuModel)) out.push(`machine.cpu "${machine.cpuModel}" is not a CPU model: a name with optional ,+flag/,-flag/,prop=value, no spaces or quotes`);
  return out;
}

async function cpuModelProblems(cell: Cell): Promise<string[]> {
  if (!isVm(cell) || !CPU_MODEL.test(cell.machine.cpuModel)) return [];
  const unknown = unknownCpuModel(cell.machine.cpuModel, await qemuCpuNames());
  return unknown ? [`machine.cpu ${unknown}`] : [];
}

function eventProblems(cell: Cell): string[] {
  const out: string[] = [];
  cell.events.forEach((event, i) => {
    const where = `events[${i}]`;
    const kind = eventKinds.get(event.kind);
    if (!kind) {
      out.push(`${where}: unknown event kind "${event.kind}"${didYouMean(event.kind, knownEventKinds)}; known: ${knownEventKinds.join(', ')}`);
      return;
    }
    try {
      kind.validate(event.params ?? {});
    } catch (error) {
      out.push(`${where}: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    const lastMs = event.trigger.kind === 'at' ? event.trigger.afterMs + (event.repeat ? event.repeat.count * event.repeat.everyMs : 0) : 0;
    if (lastMs >= cell.timeoutMs) out.push(`${where}: ${event.kind} fires at ${lastMs} ms, at or after the cell's timeout of ${cell.timeoutMs} ms: it could never run`);
    const lack = machineLacks(cell, event);
    if (lack) out.push(`${where}: ${lack.need}; the machine has ${lack.has}`);
  });
  return out;
}

function suiteProblems(cell: Cell): string[] {
  const builtin = Object.keys(suiteCatalog.builtin);
  return cell.suites
    .filter((s) => !isSuitePath(s.name) && !builtin.includes(s.name))
    .map((s) => `suite "${s.name}" is neither a built-in suite${didYouMean(s.name, builtin)} nor a path to a suite module; built-in suites: ${builtin.join(', ')}`);
}
