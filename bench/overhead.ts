import { createConnection } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { DEFAULT_MACHINE } from '../harness/model/machine-spec.js';
import { ResourceScope } from '../harness/core/scope.js';
import { ensureDefaultImage } from '../harness/images/default-image.js';
import { probeKvm } from '../harness/machines/qemu/accel.js';
import { startQemuMachine } from '../harness/machines/qemu/machine.js';
import { summarise, type BenchLine } from './stats.js';

/**
 * Harness overhead: `startQemuMachine` to a synced agent vs a bare QEMU command line whose agent
 * socket is polled with a raw guest-sync — what a hand-written script would do.
 */
export async function benchOverhead(rounds = 5): Promise<BenchLine[]> {
  const image = await ensureDefaultImage();
  const kvm = await probeKvm(image);
  const bare: number[] = [];
  const harness: number[] = [];
  for (let i = 0; i < rounds; i++) {
    bare.push(await bareBoot(image, kvm.usable ? 'kvm' : 'tcg'));
    const scope = new ResourceScope('bench-overhead');
    const started = performance.now();
    const machine = await startQemuMachine({ ...DEFAULT_MACHINE, balloon: false }, { scope, kvm, name: `overhead-${i}` });
    await machine.stop();
    harness.push(performance.now() - started);
    await scope.dispose();
  }
  const b = summarise(bare);
  const h = summarise(harness);
  return [
    { name: `bare QEMU script: launch, agent answers, shut down (median of ${rounds})`, value: b.median, unit: 'ms' },
    { name: 'bothworlds startQemuMachine + stop', value: h.median, unit: 'ms' },
    { name: 'ratio harness / bare (target <= 1.10)', value: h.median / b.median, unit: 'ratio' },
  ];
}

async function bareBoot(image: { kernel: string; initrd: string; append: string }, accel: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'bw-bare-'));
  const agent = join(dir, 'qga.sock');
  const started = performance.now();
  const qemu = execa('qemu-system-x86_64', [
    '-machine', `q35,accel=${accel}`, '-cpu', 'max', '-m', '512', '-nodefaults', '-no-user-config', '-display', 'none',
    '-serial', 'null', '-kernel', image.kernel, '-initrd', image.initrd, '-append', image.append,
    '-device', 'virtio-serial-pci',
    '-chardev', `socket,id=qga0,path=${agent},server=on,wait=off`,
    '-device', 'virtserialport,chardev=qga0,name=org.qemu.guest_agent.0',
  ], { reject: false });
  try {
    await rawSync(agent, 90_000);
    qemu.kill('SIGTERM');
    await qemu;
    return performance.now() - started;
  } finally {
    qemu.kill('SIGKILL');
    await qemu;
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The minimum a script needs: connect, send guest-sync every 100 ms until one is answered. */
async function rawSync(path: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const answered = await new Promise<boolean>((resolve) => {
      const socket = createConnection(path);
      const timer = setInterval(() => socket.write('{"execute":"guest-sync","arguments":{"id":42}}\n'), 100);
      socket.on('connect', () => socket.write('{"execute":"guest-sync","arguments":{"id":42}}\n'));
      socket.on('data', (data) => {
        if (data.toString().includes('"return": 42') || data.toString().includes('"return":42')) {
          clearInterval(timer);
          socket.destroy();
          resolve(true);
        }
      });
      socket.on('error', () => {
        clearInterval(timer);
        setTimeout(() => resolve(false), 20);
      });
      setTimeout(() => {
        clearInterval(timer);
        socket.destroy();
        resolve(false);
      }, Math.max(0, deadline - performance.now()));
    });
    if (answered) return;
  }
  throw new Error(`bare QEMU agent did not answer within ${timeoutMs} ms`);
}
