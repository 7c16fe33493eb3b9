import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../core/deadline.js';
import { QmpClient } from '../qmp/client.js';
import { ResourceScope } from '../core/scope.js';
import { bootPlainGuest, connectAgent, readPortLines } from './boot.test-helper.js';
import { ensureDefaultImage, type GuestImage } from './default-image.js';
import { PAYLOAD_DIR, withPayload } from './payload.js';
import { ensureTools, type GuestTools } from './tools.js';

/**
 * The default image booted from a plain QEMU command line (TCG, PVH vmlinux): the agent answers,
 * heartbeat lines flow on their port, the payload and the tools are in place, and bw.autoonline
 * onlines a hot-plugged CPU.
 */
describe('default guest image booted under TCG', () => {
  const scope = new ResourceScope('image-boot-test');
  let image: GuestImage;
  let tools: GuestTools;
  // /usr/bin/stat is dynamic: it proves the payload brings the libraries ldd lists.
  const dynamicExecutable = '/usr/bin/stat';

  beforeAll(async () => {
    tools = await ensureTools();
    const base = await ensureDefaultImage();
    const dataDir = mkdtempSync(join(tmpdir(), 'bw-payload-'));
    scope.registerTempDir(dataDir);
    const config = join(dataDir, 'app.conf');
    writeFileSync(config, 'answer=42\n');
    image = await withPayload(base, { files: [tools.demoServer, dynamicExecutable, config] });
  }, 180_000);

  afterAll(async () => {
    expect(await scope.dispose()).toEqual([]);
  });

  it('boots to a working agent, streams heartbeats and carries the payload and tools', async () => {
    const guest = bootPlainGuest(image, scope, { appendExtra: 'bw.heartbeat_ms=10' });
    const agent = await connectAgent(guest, scope, 90_000);
    const bootToAgentMs = performance.now() - guest.startedAt;
    await agent.ping();
    expect(bootToAgentMs).toBeGreaterThan(0);
    expect(guest.console.some((line) => /^bothworlds: agent starting on \/dev\/vport\d+p\d+$/.test(line))).toBe(true);

    const heartbeat = await readPortLines(guest.heartbeatSocket, scope);
    await pollUntil(async () => heartbeat.lines.length, (n) => n >= 20, { timeoutMs: 20_000, what: '20 heartbeat lines' });
    const beats = heartbeat.lines.map((line) => /^hb (\d+) (\d+) (\d+) (\d+)$/.exec(line));
    expect(beats.every(Boolean)).toBe(true);
    // bw.heartbeat_ms sets the idle pace.
    expect(beats.every((m) => m![4] === '10')).toBe(true);
    const seqs = beats.map((m) => Number(m![1]));
    const monotonic = beats.map((m) => BigInt(m![2]!));
    for (let i = 1; i < seqs.length; i++) {
      expect(seqs[i]).toBe(seqs[i - 1]! + 1);
      expect(monotonic[i]! > monotonic[i - 1]!).toBe(true);
    }

    const listing = await agent.exec(['ls', PAYLOAD_DIR]);
    expect(listing.exitCode).toBe(0);
    expect(listing.stdout.split('\n').filter(Boolean).sort()).toEqual(['app.conf', 'demo-server', 'stat']);
    const config = await agent.exec(['cat', `${PAYLOAD_DIR}/app.conf`]);
    expect(config.stdout).toBe('answer=42\n');
    const dynamic = await agent.exec([`${PAYLOAD_DIR}/stat`, '-c', '%s', `${PAYLOAD_DIR}/app.conf`]);
    expect(dynamic.stdout.trim()).toBe('10');

    const tool = await agent.exec(['sh', '-c', 'command -v bw-perf-probe && bw-perf-probe']);
    expect(tool.exitCode).toBe(0);
    const [path, json] = tool.stdout.trim().split('\n');
    expect(path).toBe('/opt/bothworlds/bin/bw-perf-probe');
    expect(Object.keys(JSON.parse(json!) as object).sort()).toEqual(['cycles', 'instructions']);

    const demo = await agent.exec(['demo-server', '--duration-s', '1', '--heartbeat-ms', '200']);
    expect(demo.exitCode).toBe(0);
    expect(demo.stdout).toMatch(/^demo-server ready workers=1 cpus=1/m);

    const hwclock = await agent.exec(['ls', '/sbin/hwclock']);
    expect(hwclock.exitCode).toBe(0);
    // Applications write to a FIFO that app-output.sh copies to the bothworlds.app port (a virtio
    // port opens once at a time; several applications may write).
    const appLink = await agent.exec(['sh', '-c', 'readlink /dev/bothworlds-app; [ -p /run/bothworlds-app ] && echo fifo']);
    expect(appLink.stdout.trim().split('\n')).toEqual(['/run/bothworlds-app', 'fifo']);
    console.info(`boot to agent: ${(bootToAgentMs / 1000).toFixed(2)} s`);
  }, 150_000);

  it('with bw.autoonline=1 a hot-plugged CPU comes online by itself, and only the adaptive demo server follows', async () => {
    const guest = bootPlainGuest(image, scope, { appendExtra: 'bw.autoonline=1', smp: '1,maxcpus=2' });
    const agent = await connectAgent(guest, scope, 90_000);
    const qmp = await QmpClient.connect(guest.qmpSocket);
    scope.register({ name: 'qmp', kind: 'socket', dispose: () => qmp.close() });
    // Two demo servers: the classic one sizes its pool once, the adaptive one follows the CPUs.
    await agent.execStart(['sh', '-c', 'demo-server --socket /run/fixed.sock --duration-s 60 >/tmp/fixed.log 2>&1']);
    await agent.execStart(['sh', '-c', 'demo-server --adaptive --socket /run/adaptive.sock --duration-s 60 >/tmp/adaptive.log 2>&1']);
    const bothReady = async (): Promise<string> => (await agent.exec(['cat', '/tmp/fixed.log', '/tmp/adaptive.log'])).stdout;
    await pollUntil(bothReady, (out) => (out.match(/demo-server ready workers=1 cpus=1/g) ?? []).length === 2, { timeoutMs: 20_000, intervalMs: 100, what: 'both demo servers ready' });
    await qmp.executeRaw('device_add', { driver: 'max-x86_64-cpu', id: 'cpu1', 'socket-id': 0, 'core-id': 1, 'thread-id': 0 });
    const online = await pollUntil(
      async () => (await agent.exec(['cat', '/sys/devices/system/cpu/online'])).stdout.trim(),
      (value) => value === '0-1',
      { timeoutMs: 20_000, intervalMs: 100, what: 'the hot-plugged CPU to come online' },
    );
    expect(online).toBe('0-1');
    await pollUntil(async () => (await agent.exec(['cat', '/tmp/adaptive.log'])).stdout, (out) => out.includes('demo-server resized workers=2'), {
      timeoutMs: 10_000,
      intervalMs: 100,
      what: 'the adaptive demo server to grow its pool',
    });
    expect((await agent.exec(['demo-server', '--health', '--socket', '/run/adaptive.sock'])).stdout.trim()).toBe('ok workers=2');
    expect((await agent.exec(['demo-server', '--health', '--socket', '/run/fixed.sock'])).stdout.trim()).toBe('ok workers=1');
    expect(guest.console).toContain('bothworlds: auto-online of hot-plugged CPUs enabled');
  }, 150_000);
});
