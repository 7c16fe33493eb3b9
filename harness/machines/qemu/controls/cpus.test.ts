import { describe, expect, it } from 'vitest';
import type { GuestVcpu } from '../../../qga/client.js';
import type { QemuMachine } from '../machine.js';
import { createCpuControl, vcpuRegistered } from './cpus.js';

/**
 * The agent answers a real guest gave after a vCPU device_add (issue 11): the new CPU's sysfs
 * directory appears before its `online` file, and for that window qemu-ga reports it online and
 * not offline-able. Replayed on a stand-in machine because the window is ~10 ms wide; the loop
 * on real restored clones is bench/restored-plug.ts (and the real plug tests in harness/inject).
 */
function standIn(sequence: GuestVcpu[][]) {
  const cpu0: GuestVcpu = { 'logical-id': 0, online: true, 'can-offline': false };
  let online = false;
  let reads = 0;
  const setCalls: unknown[] = [];
  const machine = {
    autoOnline: false,
    hotplugged: [],
    qmp: {
      execute: async (command: string) =>
        command === 'query-hotpluggable-cpus' ? [{ type: 'Nehalem-x86_64-cpu', props: { 'socket-id': 0, 'core-id': 1, 'thread-id': 0 }, 'vcpus-count': 1 }] : {},
    },
    agent: {
      getVcpus: async () => {
        // First read is the "before" set; then the guest's states in order, the last one repeating.
        const step = reads++ === 0 ? [] : sequence[Math.min(reads - 2, sequence.length - 1)]!;
        return [cpu0, ...step.map((v) => (v['can-offline'] !== false && online ? { ...v, online: true } : v))];
      },
      setVcpus: async (vcpus: Array<{ 'logical-id': number; online: boolean }>) => {
        setCalls.push(vcpus);
        // Onlining a CPU whose online file does not exist yet does nothing in the guest.
        if (reads - 2 >= sequence.length - 1) online = true;
        return vcpus.length;
      },
    },
  } as unknown as QemuMachine;
  return { machine, setCalls };
}

describe('vCPU plug', () => {
  it('treats a new CPU without its sysfs online file as not yet registered', () => {
    expect(vcpuRegistered({ 'logical-id': 1, online: true, 'can-offline': false })).toBe(false);
    expect(vcpuRegistered({ 'logical-id': 1, online: false, 'can-offline': true })).toBe(true);
    expect(vcpuRegistered({ 'logical-id': 1, online: true })).toBe(true);
  });

  it('onlines a hot-added CPU the agent first reported online and not offline-able', async () => {
    const { machine, setCalls } = standIn([
      [],
      [{ 'logical-id': 1, online: true, 'can-offline': false }],
      [{ 'logical-id': 1, online: true, 'can-offline': false }],
      [{ 'logical-id': 1, online: false, 'can-offline': true }],
    ]);
    const ack = await createCpuControl(machine).plug();
    expect(setCalls).toEqual([[{ 'logical-id': 1, online: true }]]);
    expect(ack.detail).toMatchObject({ logicalIds: [1], onlinedBy: 'guest agent' });
  });
});
