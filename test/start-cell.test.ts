import { describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { execa } from 'execa';
import { startCell } from '../harness/index.js';

/** GET / through the forwarded port: what busybox httpd serves from the guest. */
function fetchThrough(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (chunk) => (data += String(chunk)));
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
    socket.write('GET /index.html HTTP/1.0\r\n\r\n');
  });
}

/** The vitest fixture, as a user writes it: one real TCG guest, changed under its app, asserted on. */
describe('startCell', () => {
  it('boots, serves a port, plugs a vCPU, balloons, live-migrates, and leaves nothing behind', async () => {
    let name: string;
    {
      await using vm = await startCell({
        machine: { cpu: 'max', vcpus: 1, maxvcpus: 2, memory: '512M', accel: 'tcg' },
        app: {
          command: ['sh', '-c', 'mkdir -p /tmp/www && echo "hello from $(hostname)" > /tmp/www/index.html && echo serving && exec busybox httpd -f -p 8080 -h /tmp/www'],
          ready: 'serving',
          ports: [8080],
          timeout: '30s',
        },
      });
      name = vm.cell.id;
      expect((await vm.exec(['nproc'])).stdout.trim()).toBe('1');
      const port = vm.port(8080);
      expect(await fetchThrough(port)).toMatch(/hello from/);
      expect(await vm.plugCpus(1)).toBe(2);
      await vm.balloon('384M');
      const migration = await vm.migrate();
      expect(migration.status).toBe('completed');
      // The same host port reaches the guest on its new QEMU.
      expect(await fetchThrough(vm.port(8080))).toMatch(/hello from/);
      expect(() => vm.port(9999)).toThrow(/not forwarded/);
    }
    const left = await execa('pgrep', ['-f', `qemu-system.*${name}`], { reject: false });
    expect(left.stdout).toBe('');
  }, 240_000);
});
