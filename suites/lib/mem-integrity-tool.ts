import { readFile } from 'node:fs/promises';
import { InfrastructureError } from '../../harness/core/errors.js';
import { ensureTools } from '../../harness/images/tools.js';
import type { ExecResult, StartedMachine } from '../../harness/machines/machine.js';

/** What one window of bw-mem-integrity (the time between two verify requests) found. */
export interface IntegrityWindow {
  seq: string;
  pages: number;
  page_size: number;
  generation: number;
  window_ms: number;
  passes: number;
  /** Pages the writer checked before rewriting them (the running record). */
  writer_checked: number;
  bad_pages: number;
  writer_bad: number;
  verify_bad: number;
  total_bad: number;
  /** -1 when the window is clean. */
  first_bad_page: number;
  first_bad_by: '' | 'writer' | 'verify';
  first_bad_word: number;
  first_bad_at_ms: number;
  first_bad_expected: string;
  first_bad_found: string;
  /** Longest time between two rewrite steps, and the step the rate asks for. */
  max_gap_ms: number;
  step_ms: number;
  longest_pass_ms: number;
  verify_ms: number;
}

/** VM images carry the tool; other backends get it uploaded next to the payload. */
const IMAGE_TOOL = '/opt/bothworlds/bin/bw-mem-integrity';

/**
 * The suite's side of bw-mem-integrity's protocol: `start` leaves a daemon running (its own
 * session, so it outlives the exec), `verify` closes a window and returns what it found as JSON,
 * `locate` gives a page's guest-physical address, `stop` ends it. Everything goes through
 * `machine.exec`, so it works wherever exec does (guest agent, virsh, ssh, this host, docker).
 */
export class MemIntegrityTool {
  private constructor(
    private readonly machine: StartedMachine,
    readonly binary: string,
    readonly dir: string,
    readonly pid: number,
    readonly pages: number,
  ) {}

  static async start(machine: StartedMachine, options: { mib: number; rateMiBps: number; maxSeconds: number }): Promise<MemIntegrityTool> {
    const binary = await installTool(machine);
    const dir = `${machine.payloadDir}/.bw-mem-integrity`;
    const args = ['start', dir, '--mib', String(options.mib), '--rate-mib', String(options.rateMiBps), '--max-seconds', String(Math.ceil(options.maxSeconds))];
    // Filling 64 MiB under TCG takes a moment; a guest short of memory may take longer.
    const result = await machine.exec([binary, ...args], { timeoutMs: 120_000 });
    const ready = /mem-integrity ready pid=(\d+) pages=(\d+)/.exec(result.stdout);
    if (result.exitCode !== 0 || !ready) throw toolError('start', result);
    return new MemIntegrityTool(machine, binary, dir, Number(ready[1]), Number(ready[2]));
  }

  /** Close window `seq`: every page is checked now and what the window saw comes back. */
  async verify(seq: string, timeoutMs: number): Promise<IntegrityWindow> {
    const result = await this.machine.exec([this.binary, 'verify', this.dir, seq, String(timeoutMs)], { timeoutMs: timeoutMs + 30_000 });
    if (result.exitCode !== 0) throw toolError(`verify ${seq}`, result);
    try {
      return JSON.parse(result.stdout) as IntegrityWindow;
    } catch (error) {
      throw new InfrastructureError('MEM_INTEGRITY_TOOL', `bw-mem-integrity verify ${seq} answered something that is not JSON: ${result.stdout.slice(0, 300)}`, { cause: error });
    }
  }

  /** The guest-physical address of a page of the region (needs root in the guest: /proc/PID/pagemap). */
  async locate(page: number): Promise<bigint> {
    const result = await this.machine.exec([this.binary, 'locate', this.dir, String(page)], { timeoutMs: 30_000 });
    const found = /paddr=0x([0-9a-f]+)/.exec(result.stdout);
    if (result.exitCode !== 0 || !found) throw toolError(`locate ${page}`, result);
    return BigInt(`0x${found[1]}`);
  }

  async stop(): Promise<void> {
    await this.machine.exec([this.binary, 'stop', this.dir], { timeoutMs: 30_000 });
  }
}

async function installTool(machine: StartedMachine): Promise<string> {
  if (machine.backend === 'qemu' || machine.backend === 'libvirt') return IMAGE_TOOL;
  const remote = `${machine.payloadDir}/.bw-mem-integrity-bin`;
  await machine.writeFile(remote, await readFile((await ensureTools()).memIntegrity), 0o755);
  return remote;
}

function toolError(what: string, result: ExecResult): InfrastructureError {
  const said = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-3).join(' | ');
  return new InfrastructureError('MEM_INTEGRITY_TOOL', `bw-mem-integrity ${what} failed (exit ${result.exitCode}${result.timedOut ? ', timed out' : ''}): ${said}`);
}
