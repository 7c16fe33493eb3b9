import { InfrastructureError, describeError } from '../../../core/errors.js';
import { pollUntil } from '../../../core/deadline.js';
import type { Ack, MachineControls } from '../../machine.js';
import type { QemuMachine } from '../machine.js';
import { probeCpuDeviceDel, type CpuUnplugProbe } from './cpu-unplug-probe.js';

let cpuCounter = 0;

/**
 * vCPU hot-plug: `device_add` of the next free slot `query-hotpluggable-cpus` reports, onlined by
 * the guest's auto-online listener or through the agent. Unplug is a real `device_del` only where
 * a probe showed it works on this QEMU and accelerator (cached on disk); elsewhere — QEMU 7.2 under
 * TCG crashes on the next plug (QEMU-NOTES) — the highest vCPU is offlined through the agent.
 */
export function createCpuControl(machine: QemuMachine): NonNullable<MachineControls['cpus']> {
  return {
    async plug(): Promise<Ack> {
      const slots = await machine.qmp.execute('query-hotpluggable-cpus');
      const free = slots.filter((s) => !s['qom-path']).sort((a, b) => order(a.props) - order(b.props));
      const slot = free[0];
      if (!slot) {
        // Every slot is in use, but a vCPU offlined by an earlier unplug can come back.
        const offline = (await machine.agent.getVcpus()).filter((v) => !v.online).sort((a, b) => a['logical-id'] - b['logical-id'])[0];
        if (!offline) throw new InfrastructureError('NO_CPU_SLOT', `no free vCPU slot: all ${slots.length} are in use and online (raise maxvcpus in the matrix)`);
        await machine.agent.setVcpus([{ 'logical-id': offline['logical-id'], online: true }]);
        return { acknowledgedAt: performance.now(), metrics: {}, detail: { logicalIds: [offline['logical-id']], method: 'online through the guest agent (every vCPU slot is in use)' } };
      }
      const before = new Set((await machine.agent.getVcpus()).map((v) => v['logical-id']));
      const id = `bwcpu${++cpuCounter}`;
      const args = { driver: slot.type, id, ...slot.props };
      await machine.qmp.execute('device_add', args);
      const acknowledgedAt = performance.now();
      machine.hotplugged.push({ id, command: 'device_add', args });
      const vcpus = await pollUntil(
        () => machine.agent.getVcpus(),
        (list) => list.some((v) => !before.has(v['logical-id'])),
        { timeoutMs: 20_000, intervalMs: 20, what: `the guest to see hot-plugged vCPU ${id}` },
      );
      const added = vcpus.filter((v) => !before.has(v['logical-id']));
      if (!machine.autoOnline) {
        const offline = added.filter((v) => !v.online);
        if (offline.length > 0) await machine.agent.setVcpus(offline.map((v) => ({ 'logical-id': v['logical-id'], online: true })));
      }
      return { acknowledgedAt, metrics: {}, detail: { device: id, logicalIds: added.map((v) => v['logical-id']), onlinedBy: machine.autoOnline ? 'guest auto-online' : 'guest agent' } };
    },
    async unplug(): Promise<Ack> {
      const plugged = [...machine.hotplugged].reverse().find((r) => r.command === 'device_add' && r.id.startsWith('bwcpu'));
      let probe: CpuUnplugProbe | undefined;
      let probeFailure: string | undefined;
      if (plugged) {
        probe = await probeCpuDeviceDel(machine).catch((error: unknown) => {
          probeFailure = describeError(error);
          return undefined;
        });
      }
      if (plugged && probe?.works) return deviceDel(machine, plugged.id, probe);
      const vcpus = await machine.agent.getVcpus();
      const victim = vcpus.filter((v) => v.online && v['logical-id'] !== 0 && v['can-offline'] !== false).sort((a, b) => b['logical-id'] - a['logical-id'])[0];
      if (!victim) throw new InfrastructureError('NO_CPU_TO_OFFLINE', 'only CPU 0 is online; it cannot be offlined');
      await machine.agent.setVcpus([{ 'logical-id': victim['logical-id'], online: false }]);
      const why = probe ? `device_del probe on QEMU ${probe.qemu} (${probe.accel}): ${probe.detail}` : probeFailure ? `the device_del probe failed: ${probeFailure}` : 'no hot-plugged vCPU device to delete';
      return { acknowledgedAt: performance.now(), metrics: {}, detail: { logicalId: victim['logical-id'], method: 'offline through the guest agent', why } };
    },
  };
}

/** A real vCPU unplug, where the probe showed it safe: the guest ejects it, QEMU reports DEVICE_DELETED. */
async function deviceDel(machine: QemuMachine, id: string, probe: CpuUnplugProbe): Promise<Ack> {
  const deleted = machine.qmp.waitForEvent('DEVICE_DELETED', { match: { device: id }, timeoutMs: 15_000 });
  await machine.qmp.execute('device_del', { id });
  try {
    await deleted;
  } catch (error) {
    throw new InfrastructureError('CPU_UNPLUG_REFUSED', `the guest did not eject vCPU ${id} within 15 s after device_del`, { cause: error });
  }
  const index = machine.hotplugged.findIndex((r) => r.id === id);
  if (index >= 0) machine.hotplugged.splice(index, 1);
  return { acknowledgedAt: performance.now(), metrics: {}, detail: { device: id, method: 'device_del', why: `device_del probe on QEMU ${probe.qemu} (${probe.accel}): ${probe.detail}` } };
}

function order(props: { 'socket-id'?: number; 'core-id'?: number; 'thread-id'?: number }): number {
  return (props['socket-id'] ?? 0) * 1_000_000 + (props['core-id'] ?? 0) * 1_000 + (props['thread-id'] ?? 0);
}
