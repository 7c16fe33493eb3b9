import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { RunRecord } from '../harness/report/run-record.js';
import { ensureBootDisk } from '../harness/images/testing/boot-disk.js';
import { instanceUri, virsh } from '../harness/machines/libvirt/virsh.js';
import { domainName } from '../harness/machines/libvirt/owner.js';
import { onlyRunDir, privateRunDir, qemusWith, readJson, runCli, workspace } from './cli-helpers.js';

/** The app waits for the vCPU the scenario plugs once it printed `ready`, and fails if it never comes. */
const PROBE = `#!/bin/sh
echo "ready cpus=$(nproc)"
i=0
while [ "$(nproc)" -lt 2 ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
echo "after plug cpus=$(nproc)"
[ "$(nproc)" -ge 2 ]
`;

/** A user's own bootable disk image (`image: ./boot.qcow2`), run through the CLI as a user would. */
describe('bothworlds run with image: ./boot.qcow2', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  it('qemu and libvirt boot the image by its own bootloader, deliver app files through the agent, plug a vCPU and pass; it boots cold, and the image is never written', { timeout: 300_000 }, async () => {
    const ws = workspace(
      (tag) => `name: user-image
app: {command: [/opt/bothworlds/app/probe.sh], files: [./probe.sh], timeout: 90s}
defaults: {memory: 256M, vcpus: 1, maxvcpus: 2, run: "${tag}"}
axes:
  image: [./boot.qcow2]
  backend: [qemu, libvirt]
  events: [cpu-plug]
scenarios:
  cpu-plug: [{on: "ready cpus=1", do: cpu-plug, with: {count: 1}}]
timeout: 240s
`,
    );
    cleanups.push(ws.cleanup);
    const image = join(ws.dir, 'boot.qcow2');
    copyFileSync((await ensureBootDisk()).path, image);
    writeFileSync(join(ws.dir, 'probe.sh'), PROBE);
    chmodSync(join(ws.dir, 'probe.sh'), 0o755);
    const before = (await execa('sha256sum', [image])).stdout;
    const runDir = privateRunDir(ws.dir);
    // Snapshots stay on (the default): a user's disk image must be seen to boot cold, saying why.
    const run = await runCli(['run', ws.file, '--reports', ws.reports, '--plain'], { env: { BOTHWORLDS_RUN_DIR: runDir.dir } });
    expect(run.exitCode, run.all).toBe(0);
    const record = readJson<RunRecord>(join(onlyRunDir(ws.reports), 'results.json'));
    expect(record.cells).toHaveLength(2);
    // Both backends: the same disk, each cell on its own overlay, booted by SeaBIOS and syslinux.
    for (const backend of ['qemu', 'libvirt'] as const) {
      const cell = record.cells.find((c) => c.backend === backend)!;
      expect(cell, cell.reason).toMatchObject({ backend, outcome: 'passed', axes: { image: './boot.qcow2', events: 'cpu-plug' } });
      // Booted from the disk by its own bootloader (syslinux prints its banner on the serial console).
      const log = cell.log.map((l) => `${l.source}: ${l.text}`);
      expect(log).toContainEqual(expect.stringMatching(/^console: SYSLINUX \d/));
      // The app file came in through the agent and ran: it saw the plugged vCPU.
      expect(log).toContainEqual('app: ready cpus=1');
      expect(log).toContainEqual('app: after plug cpus=2');
      expect(cell.events).toHaveLength(1);
      expect(cell.events[0]).toMatchObject({ kind: 'cpu-plug', outcome: 'ok' });
    }
    const cell = record.cells.find((c) => c.backend === 'qemu')!;
    // No snapshot for a user's image: a cold boot, and the run says why.
    expect(cell.metrics.snapshot_restored?.value).toBe(0);
    expect(run.all).toMatch(/cold boot \(a user's disk image boots cold/);
    expect((await execa('sha256sum', [image])).stdout).toBe(before);
    expect(runDir.roots()).toEqual([]);
    expect(await qemusWith(ws.tag)).toEqual([]);
    const domain = domainName(record.cells.find((c) => c.backend === 'libvirt')!.id);
    for (const name of ['a', 'b']) expect((await virsh(instanceUri(name), ['list', '--all', '--name'])).split('\n')).not.toContain(domain);
  });
});
