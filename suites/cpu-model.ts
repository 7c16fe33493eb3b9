import { defineSuite } from '../harness/suite/api.js';
import { optionsSchema } from '../harness/suite/options-schema.js';
import { cpuArgument } from '../harness/machines/qemu/argv.js';
import { asQemu } from './lib/qemu.js';
import { compareFlags, qemuFeatureToFlag } from './lib/flags.js';
import { hostCpuFlags } from './lib/host.js';
import { parseCpuArgument } from './lib/cpu-arg.js';
import { analyseAppFiles, describeLacking, predictCell } from '../harness/cpu/predict.js';

const list = (flags: string[], max = 8) => (flags.length === 0 ? 'none' : `${flags.slice(0, max).join(', ')}${flags.length > max ? ` and ${flags.length - max} more` : ''}`);

/**
 * The guest's CPU model and CPUID flags against the host's and against what the requested model
 * should expose (QEMU's own expansion), plus the features QEMU dropped under TCG. The flags the
 * application's binaries need (declared, or found by scanning their code: harness/cpu) and those
 * `require` lists are checked against the guest's: a missing one fails the cell, naming the flag
 * and the instruction that needs it.
 */
export const cpuModel = defineSuite({
  name: 'cpu-model',
  description: 'CPU model name and CPUID flags: missing, added, dropped by TCG; required flags',
  optionsSchema: optionsSchema({ require: { description: 'CPU flags the application needs, as /proc/cpuinfo names them (sse4_2, avx2).', type: 'array', items: { type: 'string' } } }),
  async check(context) {
    const { facts, machine, options } = context;
    const qemu = asQemu(machine);
    let expected: string[] | undefined;
    if (qemu && !['host-passthrough', 'host-model'].includes(qemu.spec.cpuModel)) {
      const { name, props } = parseCpuArgument(cpuArgument(qemu.spec.cpuModel));
      const model = Object.keys(props).length > 0 ? { name, props } : { name };
      const expansion = await qemu.qmp.execute('query-cpu-model-expansion', { type: 'full', model });
      expected = Object.entries(expansion.model.props ?? {})
        .filter(([, on]) => on === true)
        .map(([name]) => qemuFeatureToFlag(name));
    }
    const host = hostCpuFlags();
    const flags = compareFlags(facts.cpuFlags, host, expected, qemu?.qemuWarnings ?? []);
    const where = `${facts.cpuModelName}${machine.accel !== 'none' ? ` under ${machine.accel.toUpperCase()}` : ''}`;
    context.data('flags', { model: facts.cpuModelName, guest: facts.cpuFlags, host, ...flags });
    context.metric('flags_missing_vs_host', flags.missingVsHost.length, 'count');
    context.metric('flags_added_vs_host', flags.addedVsHost.length, 'count');
    context.check('model', true, `the guest sees "${facts.cpuModelName}" with ${facts.cpuFlags.length} flags`);
    context.check(
      'flags vs host',
      true,
      `vs this host the guest lacks ${list(flags.missingVsHost)} and adds ${list(flags.addedVsHost)}`,
    );
    if (expected) {
      context.check(
        'flags vs model',
        true,
        flags.missingFromModel.length === 0
          ? `every flag of ${qemu!.spec.cpuModel} reached the guest`
          : `${qemu!.spec.cpuModel} should expose ${list(flags.missingFromModel)} but the guest lacks them${flags.tcgDropped.length ? ` (TCG dropped ${list(flags.tcgDropped)})` : ''}`,
      );
    }
    if (flags.tcgDropped.length > 0) context.log(`QEMU dropped under TCG: ${flags.tcgDropped.join(', ')}`);
    const binaries = await analyseAppFiles(context.cell.app.files);
    if (binaries.length > 0) {
      const prediction = predictCell(binaries, { cpu: `the guest (${where})`, flags: facts.cpuFlags });
      context.data('isa', prediction);
      const dispatch = prediction.dispatch.length ? `; chooses code at run time, not predicted: ${prediction.dispatch.join('; ')}` : '';
      context.check(
        'application needs',
        prediction.lacking.length === 0,
        prediction.lacking.length === 0
          ? `the guest has every flag the application's binaries need (${prediction.needsText ?? 'nothing beyond x86-64'})${dispatch}`
          : `${describeLacking(prediction.lacking)}, which the guest (${where}) lacks`,
      );
    }
    const required = Array.isArray(options.require) ? options.require.map(String) : [];
    if (required.length > 0) {
      const lacking = required.filter((flag) => !facts.cpuFlags.includes(flag));
      context.check(
        'required flags',
        lacking.length === 0,
        lacking.length === 0
          ? `the guest has every flag the application needs (${required.join(', ')})`
          : `the application needs ${required.join(', ')} but the guest (${where}) lacks: ${lacking.join(', ')}`,
      );
    }
  },
});
