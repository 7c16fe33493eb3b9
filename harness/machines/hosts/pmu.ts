import type { MachineFacts } from '../../model/facts.js';
import type { HostShell } from './shell.js';

type Pmu = NonNullable<MachineFacts['pmu']>;

/** Parse bw-perf-probe's JSON line: {"cycles":{"ok":true,"count":N},"instructions":{"ok":false,"errno":"ENOENT"}} */
export function parsePerfProbe(stdout: string): Pmu {
  const line = stdout.trim().split('\n').find((l) => l.startsWith('{'));
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
  let tool: string;
  try {
    tool = await shell.toolPath('perfProbe');
  } catch (error) {
    return { cycles: false, instructions: false, detail: `perf probe unavailable: ${error instanceof Error ? error.message : String(error)}` };
  }
  const result = await shell.exec([tool], { timeoutMs: 30_000 });
  if (result.exitCode !== 0 && !result.stdout.includes('{')) {
    return { cycles: false, instructions: false, detail: `bw-perf-probe exited ${result.exitCode}: ${result.stderr.trim().slice(0, 200)}` };
  }
  return parsePerfProbe(result.stdout);
}
