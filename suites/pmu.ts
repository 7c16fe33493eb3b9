import { defineSuite } from '../harness/suite/api.js';

interface ProbeResult {
  cycles: { ok: boolean; count?: number; errno?: string };
  instructions: { ok: boolean; count?: number; errno?: string };
}

/**
 * Can the application count architectural PMU events (hardware cycles, instructions) here? Runs
 * bw-perf-probe (perf_event_open) on the machine. `require: [cycles]` fails the cell without them.
 */
export const pmu = defineSuite({
  name: 'pmu',
  description: 'architectural perf events (cycles, instructions) available to the application',
  async check(context) {
    const { machine } = context;
    const result = await machine.exec(['sh', '-c', 'command -v bw-perf-probe >/dev/null && exec bw-perf-probe || exec "$0"/bw-perf-probe', machine.payloadDir], { timeoutMs: 30_000 });
    let probe: ProbeResult;
    try {
      probe = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '') as ProbeResult;
    } catch {
      context.skipCheck('perf events', `bw-perf-probe could not run here (exit ${result.exitCode}: ${result.stderr.trim() || 'no output'})`);
      return;
    }
    context.data('pmu', probe);
    context.metric('cycles_available', probe.cycles.ok ? 1 : 0, 'bool');
    context.metric('instructions_available', probe.instructions.ok ? 1 : 0, 'bool');
    const why = (r: ProbeResult['cycles']) => (r.ok ? `counts (${r.count})` : `unavailable (${r.errno})`);
    const model = `${context.facts.cpuModelName}${machine.accel !== 'none' ? ` under ${machine.accel.toUpperCase()}` : ''}`;
    context.check('perf events', true, `on ${model}: hardware cycles ${why(probe.cycles)}, instructions ${why(probe.instructions)}`);
    const required = Array.isArray(context.options.require) ? context.options.require.map(String) : [];
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
          : `hardware ${event} counter unavailable in the guest (${state.errno}): the vCPU exposes no architectural PMU (${model}${context.facts.cpuFlags.includes('arch_perfmon') ? '' : ', no arch_perfmon flag'})`,
      );
    }
  },
});
