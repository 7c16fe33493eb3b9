import { mkdtempSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { GuestAgent } from '../qga/client.js';
import type { ResourceScope } from '../core/scope.js';
import type { GuestImage } from './default-image.js';

/** A guest booted from a plain QEMU command line (TCG), independent of the harness's QEMU machine. */
export interface PlainGuest {
  qemu: ResultPromise;
  dir: string;
  agentSocket: string;
  heartbeatSocket: string;
  appSocket: string;
  qmpSocket: string;
  console: string[];
  startedAt: number;
}

/** Boot `image` under TCG with the three virtio-serial ports bothworlds' QEMU machine uses. */
export function bootPlainGuest(image: GuestImage, scope: ResourceScope, options: { appendExtra?: string; memoryMiB?: number; smp?: string } = {}): PlainGuest {
  const dir = mkdtempSync(join(tmpdir(), 'bw-image-boot-'));
  scope.registerTempDir(dir);
  const agentSocket = join(dir, 'qga.sock');
  const heartbeatSocket = join(dir, 'hb.sock');
  const appSocket = join(dir, 'app.sock');
  const qmpSocket = join(dir, 'qmp.sock');
  const port = (id: string, path: string, name: string): string[] => [
    '-chardev', `socket,id=${id},path=${path},server=on,wait=off`,
    '-device', `virtserialport,bus=vser0.0,chardev=${id},name=${name}`,
  ];
  const argv = [
    '-machine', 'q35,accel=tcg', '-cpu', 'max', '-m', String(options.memoryMiB ?? 512), '-smp', options.smp ?? '1',
    '-nodefaults', '-no-user-config', '-display', 'none', '-serial', 'stdio',
    '-kernel', image.kernel, '-initrd', image.initrd, '-append', `${image.append}${options.appendExtra ? ` ${options.appendExtra}` : ''}`,
    '-qmp', `unix:${qmpSocket},server=on,wait=off`,
    '-device', 'virtio-serial-pci,id=vser0',
    ...port('qga0', agentSocket, 'org.qemu.guest_agent.0'),
    ...port('app0', appSocket, 'bothworlds.app'),
    ...port('hb0', heartbeatSocket, 'bothworlds.heartbeat'),
  ];
  const startedAt = performance.now();
  const qemu = execa('qemu-system-x86_64', argv, { reject: false, stdin: 'ignore', buffer: false });
  scope.register({
    name: `qemu ${dir}`,
    kind: 'process',
    dispose: async () => {
      qemu.kill('SIGKILL');
      await qemu;
    },
    disposeSync: () => void qemu.kill('SIGKILL'),
  });
  const console: string[] = [];
  let partial = '';
  qemu.stdout?.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    console.push(...lines.map((l) => l.replace(/\r$/, '')));
  });
  return { qemu, dir, agentSocket, heartbeatSocket, appSocket, qmpSocket, console, startedAt };
}

/** Connect to the guest agent (QEMU creates the socket a moment after it starts). */
export async function connectAgent(guest: PlainGuest, scope: ResourceScope, timeoutMs = 60_000): Promise<GuestAgent> {
  const agent = await GuestAgent.connect(guest.agentSocket, { timeoutMs });
  scope.register({ name: `agent ${guest.agentSocket}`, kind: 'socket', dispose: () => agent.close() });
  return agent;
}

/** Read lines from a chardev socket (heartbeat or app port) as they arrive. */
export async function readPortLines(path: string, scope: ResourceScope, timeoutMs = 10_000): Promise<{ lines: string[]; socket: Socket }> {
  const started = performance.now();
  for (;;) {
    try {
      const socket = await new Promise<Socket>((resolve, reject) => {
        const s = connect(path, () => resolve(s));
        s.once('error', reject);
      });
      scope.register({ name: `port ${path}`, kind: 'socket', dispose: async () => void socket.destroy() });
      const lines: string[] = [];
      let partial = '';
      socket.on('data', (chunk: Buffer) => {
        const parts = (partial + chunk.toString()).split('\n');
        partial = parts.pop() ?? '';
        lines.push(...parts);
      });
      return { lines, socket };
    } catch (error) {
      if (performance.now() - started > timeoutMs) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
