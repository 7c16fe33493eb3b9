import type { MachineFacts } from '../../model/facts.js';
import type { HostShell } from './shell.js';

type Pmu = NonNullable<MachineFacts['pmu']>;

/** Parse bw-perf-probe's JSON line: {"cycles":{"ok":true,"count":N},"instructions":{"ok":false,"errno":"ENOENT"}} */
export function parsePerfProbe(stdout: string): Pmu {
  const line = jsonLine(stdout);
  if (!line) return { cycles: false, instructions: false, detail: `bw-perf-probe printed no JSON: ${stdout.trim().slice(0, 200)}` };
  const parsed = JSON.parse(line) as Record<string, { ok?: boolean; errno?: string; count?: number }>;
  const describe = (name: string): string => {
    const entry = parsed[name];
    return entry?.ok ? `${name} ${entry.count}` : `${name} ${entry?.errno ?? 'count 0'}`;
  };
  return { cycles: parsed.cycles?.ok === true, instructions: parsed.instructions?.ok === true, detail: `${describe('cycles')}, ${describe('instructions')}` };
}

/** Run the static perf probe on a host; a host that cannot run it gets `detail` saying why. */
export async function probePmu(shell: HostShell): Promise<Pmu> {
  return (await runProbe(shell)).pmu;
}

let thisHost: Promise<Pmu> | undefined;

/**
 * This host's answer, probed once per harness: it is the same for every local cell, and a probe per
 * cell was ~200 KB of child-process bookkeeping (a fifth of a local cell's allocations) for the
 * garbage collector. Only an answer from the probe is kept, not a probe that could not run (a cell
 * stopped under it, a missing tool): the next cell asks again.
 */
export function probeThisHostPmu(shell: HostShell): Promise<Pmu> {
  const forget = (): void => void (thisHost = undefined);
  thisHost ??= runProbe(shell).then(
    ({ pmu, answered }) => {
      if (!answered) forget();
      return pmu;
    },
    (error: unknown) => {
      forget();
      throw error;
    },
  );
  return thisHost;
}

/** The probe's answer, and whether the probe itself answered (printed its JSON line). */
async function runProbe(shell: HostShell): Promise<{ pmu: Pmu; answered: boolean }> {
  let tool: string;
  try {
    tool = await shell.toolPath('perfProbe');
  } catch (error) {
    return { pmu: { cycles: false, instructions: false, detail: `perf probe unavailable: ${error instanceof Error ? error.message : String(error)}` }, answered: false };
  }
  const result = await shell.exec([tool], { timeoutMs: 30_000 });
  if (result.exitCode !== 0 && !result.stdout.includes('{')) {
    return { pmu: { cycles: false, instructions: false, detail: `bw-perf-probe exited ${result.exitCode}: ${result.stderr.trim().slice(0, 200)}` }, answered: false };
  }
  return { pmu: parsePerfProbe(result.stdout), answered: jsonLine(result.stdout) !== undefined };
}

function jsonLine(stdout: string): string | undefined {
  return stdout.trim().split('\n').find((l) => l.startsWith('{'));
}
