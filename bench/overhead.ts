import { makeTempDir } from '../harness/core/temp-dir.js';
import { createConnection } from 'node:net';
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { DEFAULT_MACHINE, type MachineSpec } from '../harness/model/machine-spec.js';
import { ResourceScope } from '../harness/core/scope.js';
import { ensureDefaultImage, type GuestImage } from '../harness/images/default-image.js';
import { probeKvm } from '../harness/machines/qemu/accel.js';
import { nicArguments } from '../harness/machines/qemu/argv.js';
import { startQemuMachine } from '../harness/machines/qemu/machine.js';
import type { ConsoleLine } from '../harness/model/result.js';
import { summarise, type BenchLine } from './stats.js';

/** The machine both sides boot: the harness's default without the balloon (a script would not add one). */
const SPEC: MachineSpec = { ...DEFAULT_MACHINE, balloon: false };

/** Guest milestones from the console, the same on both sides: the kernel reached init, init started qemu-ga. */
const MILESTONES = { init: /bothworlds: init started/, agentStart: /bothworlds: agent starting/ } as const;

type Steps = Record<string, number>;

/**
 * Harness overhead: `startQemuMachine` to a synced agent, then `stop`, vs what a hand-written script
 * does for an equally usable guest. Both boot the same guest hardware (CPU, memory, machine type,
 * NIC, agent port) from the same image; the script logs the console as the harness does, waits
 * for the agent with guest-sync every 20 ms, and stops QEMU with SIGTERM. What only the harness
 * adds: a QMP socket (handshake), the app and heartbeat ports with their readers, a VM generation
 * ID, the `setpriv` parent-death wrapper, `quit` instead of SIGTERM, and its teardown. Rounds
 * alternate which side goes first, so a load change on this shared host hits both alike.
 *
 * A third side is the same script with QEMU in its own session, as the harness starts it (setsid,
 * so a terminal's Ctrl+C reaches the harness, not QEMU). With the kernel's autogroup scheduling a
 * session is one scheduling group: under other load such a QEMU got less CPU (paired, load 8-14:
 * 4.31 s vs 3.64 s, 8.9 s vs 7.1 s medians); on a quiet host the two are alike. Harness over that
 * side is the harness's own machinery; over the plain script, what a user sees.
 */
export async function benchOverhead(rounds = 7): Promise<BenchLine[]> {
  const image = await ensureDefaultImage();
  const kvm = await probeKvm(image);
  const accel = kvm.usable ? 'kvm' : 'tcg';
  const bare: Steps[] = [];
  const bareOwnSession: Steps[] = [];
  const harness: Steps[] = [];
  const loads: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const sides = [
      async () => bare.push(await bareBoot(image, accel, false)),
      async () => bareOwnSession.push(await bareBoot(image, accel, true)),
      async () => harness.push(await harnessBoot(kvm, i)),
    ];
    if (i % 2 === 1) sides.reverse();
    for (const side of sides) await side();
    loads.push(loadavg()[0]!);
  }
  const b = summarise(bare.map((s) => s.total!));
  const o = summarise(bareOwnSession.map((s) => s.total!));
  const h = summarise(harness.map((s) => s.total!));
  const spread = (s: ReturnType<typeof summarise>) => `p10 ${s.p10.toFixed(0)} p90 ${s.p90.toFixed(0)}`;
  return [
    { name: `bare QEMU script: launch, agent answers, SIGTERM (median of ${rounds}, ${accel.toUpperCase()})`, value: b.median, unit: 'ms', detail: spread(b) },
    { name: 'the same script, QEMU in its own session (setsid)', value: o.median, unit: 'ms', detail: spread(o) },
    { name: 'bothworlds startQemuMachine + stop', value: h.median, unit: 'ms', detail: spread(h) },
    { name: 'ratio harness / bare (target <= 1.10)', value: h.median / b.median, unit: 'ratio', detail: `per-round ratios ${pairRatios(harness, bare)}` },
    { name: 'ratio harness / bare in its own session', value: h.median / o.median, unit: 'ratio', detail: `per-round ratios ${pairRatios(harness, bareOwnSession)}` },
    { name: 'bare: steps (median ms)', value: b.median, unit: 'ms', detail: medians(bare, ['spawn_to_init', 'init_to_agent_start', 'agent_start_to_answer', 'stop']) },
    { name: 'bare, own session: steps (median ms)', value: o.median, unit: 'ms', detail: medians(bareOwnSession, ['spawn_to_init', 'init_to_agent_start', 'agent_start_to_answer', 'stop']) },
    {
      name: 'harness: steps (median ms)',
      value: h.median,
      unit: 'ms',
      detail: medians(harness, ['prepare', 'spawn', 'qmp', 'ports', 'spawn_to_init', 'init_to_agent_start', 'agent_start_to_answer', 'quit', 'kill', 'teardown', 'stop']),
    },
    { name: 'load average (1 min) after each round', value: summarise(loads).median, unit: 'load', detail: loads.map((l) => l.toFixed(2)).join(' ') },
  ];
}

async function harnessBoot(kvm: Awaited<ReturnType<typeof probeKvm>>, i: number): Promise<Steps> {
  const scope = new ResourceScope('bench-overhead');
  try {
    const started = performance.now();
    const machine = await startQemuMachine(SPEC, { scope, kvm, name: `overhead-${i}` });
    const answered = performance.now();
    const instance = machine.instance;
    const stopping = performance.now();
    await machine.stop();
    const stopped = performance.now();
    const spawnedAt = started + (machine.startMetrics.prepare_ms?.value ?? 0) + (instance.steps.spawn ?? 0);
    return {
      total: stopped - started,
      prepare: machine.startMetrics.prepare_ms?.value ?? 0,
      spawn: instance.steps.spawn ?? 0,
      qmp: instance.steps.qmp ?? 0,
      ports: instance.steps.ports ?? 0,
      ...milestones(machine.output.lines, machine.origin, spawnedAt, answered),
      quit: instance.steps.quit ?? 0,
      kill: instance.steps.kill ?? 0,
      teardown: instance.steps.teardown ?? 0,
      stop: stopped - stopping,
    };
  } finally {
    await scope.dispose();
  }
}

/** What a script does: QEMU with an agent port and the same NIC, console logged, guest-sync until answered, SIGTERM. */
async function bareBoot(image: GuestImage, accel: string, ownSession: boolean): Promise<Steps> {
  const dir = makeTempDir('bare-');
  const agent = join(dir, 'qga.sock');
  const lines: ConsoleLine[] = [];
  const origin = performance.now();
  const args = [
    '-machine', `${SPEC.machineType},accel=${accel}`, '-cpu', SPEC.cpuModel, '-m', String(SPEC.memoryMiB),
    '-nodefaults', '-no-user-config', '-display', 'none', '-serial', 'stdio',
    '-kernel', image.kernel, '-initrd', image.initrd, '-append', image.append,
    '-device', 'virtio-serial-pci',
    '-chardev', `socket,id=qga0,path=${agent},server=on,wait=off`,
    '-device', 'virtserialport,chardev=qga0,name=org.qemu.guest_agent.0',
    ...nicArguments(SPEC),
  ];
  // In its own session, launched as the harness launches it (setsid, parent-death signal).
  const qemu = ownSession
    ? execa('setpriv', ['--pdeathsig', 'KILL', '--', 'qemu-system-x86_64', ...args], { reject: false, stdin: 'ignore', buffer: false, detached: true })
    : execa('qemu-system-x86_64', args, { reject: false, stdin: 'ignore', buffer: false });
  let partial = '';
  qemu.stdout?.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop() ?? '';
    for (const text of parts) lines.push({ t: performance.now() - origin, source: 'console', text });
  });
  try {
    await rawSync(agent, 90_000);
    const answered = performance.now();
    qemu.kill('SIGTERM');
    await qemu;
    const stopped = performance.now();
    return { total: stopped - origin, ...milestones(lines, origin, origin, answered), stop: stopped - answered };
  } finally {
    qemu.kill('SIGKILL');
    await qemu;
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Boot phases from console lines (`t` relative to `origin`), measured from QEMU's spawn. */
function milestones(lines: readonly ConsoleLine[], origin: number, spawnedAt: number, answeredAt: number): Steps {
  const at = (re: RegExp) => {
    const line = lines.find((l) => l.source === 'console' && re.test(l.text));
    return line ? origin + line.t : Number.NaN;
  };
  const init = at(MILESTONES.init);
  const agentStart = at(MILESTONES.agentStart);
  return { spawn_to_init: init - spawnedAt, init_to_agent_start: agentStart - init, agent_start_to_answer: answeredAt - agentStart };
}

/** A script's wait for the agent: connect, send guest-sync every 20 ms until it is answered. */
async function rawSync(path: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const answered = await new Promise<boolean>((resolve) => {
      const socket = createConnection(path);
      const send = () => socket.write('{"execute":"guest-sync","arguments":{"id":42}}\n');
      const timer = setInterval(send, 20);
      const give = setTimeout(() => finish(false), Math.max(0, deadline - performance.now()));
      const finish = (ok: boolean) => {
        clearInterval(timer);
        clearTimeout(give);
        socket.destroy();
        resolve(ok);
      };
      socket.on('connect', send);
      socket.on('data', (data) => {
        if (/"return": ?42\b/.test(data.toString())) finish(true);
      });
      // The socket does not exist for the first few ms after spawn: retry.
      socket.on('error', () => setTimeout(() => finish(false), 5));
    });
    if (answered) return;
  }
  throw new Error(`bare QEMU agent did not answer within ${timeoutMs} ms`);
}

function medians(samples: Steps[], keys: string[]): string {
  return keys
    .map((k) => {
      const values = samples.map((s) => s[k]!).filter((v) => Number.isFinite(v));
      return values.length > 0 ? `${k} ${summarise(values).median.toFixed(0)}` : `${k} ?`;
    })
    .join(', ');
}

function pairRatios(harness: Steps[], bare: Steps[]): string {
  return harness.map((h, i) => (h.total! / bare[i]!.total!).toFixed(2)).join(' ');
}
