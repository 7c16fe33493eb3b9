import { resolve } from 'node:path';
import { DEFAULT_MACHINE } from '../../model/machine-spec.js';
import { imageRefFor } from '../../matrix/check-image.js';
import { waitForSystemd } from '../../images/debian/settle.js';
import { DISTRO_IMAGES } from '../../images/debian/names.js';
import { existsSync } from 'node:fs';
import { startQemuMachine } from '../../machines/qemu/machine.js';
import { ResourceScope } from '../../core/scope.js';
import { handleInterrupts } from '../../run/signals.js';
import { ConfigError } from '../../core/errors.js';
import { EXIT } from '../exit-codes.js';
import { CPU_MODEL, hostMemoryMiB, maxCpusOf, unknownCpuModel } from '../../matrix/limits.js';
import { choiceFlag, intFlag, sizeFlag } from '../flags.js';
import { parseCommand } from '../command-spec.js';
import { SPECS } from '../specs.js';
import { qemuCpuNames } from '../../machines/qemu/cpu-models.js';

/** Boot a guest (the default image, `--image debian-12 [--package P]...`, or a disk file), run one command in it and print what it printed. */
export async function bootCommand(args: string[]): Promise<number> {
  const parsed = parseCommand(SPECS.boot, args);
  if (!parsed) return EXIT.ok;
  const { values, positionals } = parsed;
  const command = positionals.length > 0 ? positionals : ['sh', '-c', 'echo "$(uname -sr) | $(nproc) CPU(s) | $(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed "s/^ //") | $(grep MemTotal /proc/meminfo | tr -s " ")"'];
  // Checked before QEMU starts: a typo is exit 2 naming the flag, not a QEMU error.
  const vcpus = intFlag('vcpus', values.vcpus!, { min: 1, max: maxCpusOf(DEFAULT_MACHINE.machineType) ?? 1 });
  const memoryMiB = sizeFlag('memory', values.memory!, { min: 64, max: hostMemoryMiB() });
  const accel = choiceFlag('accel', values.accel!, ['auto', 'kvm', 'tcg'] as const);
  if (!CPU_MODEL.test(values.cpu!)) throw new ConfigError('CLI_OPTION', `--cpu must be a CPU model such as Nehalem or max,-x2apic (no spaces or quotes), not "${values.cpu}"`);
  const known = await qemuCpuNames();
  const unknown = unknownCpuModel(values.cpu!, known);
  if (unknown) throw new ConfigError('CLI_OPTION', `--cpu: ${unknown}; \`${known!.binary} -cpu help\` lists them`);
  const image = imageRefFor(values.image!, resolve('.'), values.package ?? []);
  if (image.kind === 'distro' && !(image.name in DISTRO_IMAGES)) {
    throw new ConfigError('CLI_OPTION', `--image: unknown image "${image.name}": built-in images are ${Object.keys(DISTRO_IMAGES).join(', ')}, or give a path to a qcow2/raw file`);
  }
  if (image.kind === 'disk' && !existsSync(image.path)) throw new ConfigError('CLI_OPTION', `--image: ${image.path} does not exist`);
  if (image.kind !== 'distro' && (values.package ?? []).length > 0) throw new ConfigError('CLI_OPTION', '--package needs --image debian-12 (the default guest has no package manager)');
  const interrupts = handleInterrupts();
  const scope = new ResourceScope('boot');
  try {
    const machine = await startQemuMachine(
      { ...DEFAULT_MACHINE, cpuModel: values.cpu!, vcpus, maxVcpus: vcpus, memoryMiB, accel, image },
      { scope, name: 'boot' },
    );
    process.stderr.write(`booted ${values.cpu} under ${machine.accel.toUpperCase()} to a working agent in ${machine.startMetrics.boot_ms!.value.toFixed(0)} ms\n`);
    if (image.kind === 'distro') {
      const settling = performance.now();
      process.stderr.write(`systemd ${await waitForSystemd(machine)} ${(performance.now() - settling).toFixed(0)} ms later\n`);
    }
    const result = await machine.exec(command, { timeoutMs: 60_000 });
    process.stdout.write(result.stdout);
    process.stderr.write(result.stderr);
    await machine.stop();
    return result.exitCode ?? 1;
  } finally {
    await scope.dispose();
    interrupts.uninstall();
  }
}
