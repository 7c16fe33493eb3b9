import { defineSuite } from '../harness/suite/api.js';
import { enumOption, optionsSchema } from '../harness/suite/options-schema.js';
import { parseProbeOutput, probeFromFacts, type CounterState } from './lib/pmu-probe.js';

/**
 * Can the application count architectural PMU events (hardware cycles, instructions) here? Runs
 * bw-perf-probe (perf_event_open) on the machine. `require: [cycles]` fails the cell without them.
 */
export const pmu = defineSuite({
  name: 'pmu',
  description: 'architectural perf events (cycles, instructions) available to the application',
  optionsSchema: optionsSchema({ require: { type: 'array', items: enumOption('A hardware event the application needs.', ['cycles', 'instructions']) } }),
  async check(context) {
    const { machine } = context;
    // In a guest the tool is on the PATH (/opt/bothworlds/bin); physical machines ran it at start (facts.pmu).
    const result = await machine.exec(['sh', '-c', 'command -v bw-perf-probe >/dev/null || exit 127; exec bw-perf-probe'], { timeoutMs: 30_000 });
    const probe = parseProbeOutput(result.stdout) ?? (context.facts.pmu ? probeFromFacts(context.facts.pmu) : undefined);
    if (!probe) {
      context.skipCheck('perf events', `bw-perf-probe could not run here (exit ${result.exitCode}: ${result.stderr.trim() || 'no output'}) and the machine collected no PMU facts`);
      return;
    }
    context.data('pmu', probe);
    context.metric('cycles_available', probe.cycles.ok ? 1 : 0, 'bool');
    context.metric('instructions_available', probe.instructions.ok ? 1 : 0, 'bool');
    const why = (r: CounterState) => (r.ok ? `counts (${r.count})` : `unavailable (${r.errno})`);
    const model = `${context.facts.cpuModelName}${machine.accel !== 'none' ? ` under ${machine.accel.toUpperCase()}` : ''}`;
    context.check('perf events', true, `on ${model}: hardware cycles ${why(probe.cycles)}, instructions ${why(probe.instructions)}`);
    const required = Array.isArray(context.options.require) ? context.options.require.map(String) : [];
    const virtual = machine.backend === 'qemu' || machine.backend === 'libvirt';
    const perfmon = context.facts.cpuFlags.includes('arch_perfmon') ? '' : ', no arch_perfmon flag';
    for (const event of required) {
      const state = event === 'cycles' ? probe.cycles : event === 'instructions' ? probe.instructions : undefined;
      if (!state) {
        context.skipCheck(`requires ${event}`, `unknown PMU event "${event}" (cycles, instructions)`);
        continue;
      }
      context.check(
        `requires ${event}`,
        state.ok,
        state.ok
          ? `hardware ${event} can be counted`
          : virtual
            ? `hardware ${event} counter unavailable in the guest (${state.errno}): the vCPU exposes no architectural PMU (${model}${perfmon})`
            : `hardware ${event} counter unavailable on this ${machine.backend} machine (${state.errno}): no PMU for this process (${model}${perfmon}; a VM host without PMU passthrough, perf_event_paranoid, or a container's seccomp)`,
      );
    }
  },
});
