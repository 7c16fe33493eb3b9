import { InfrastructureError } from '../../../core/errors.js';
import { pollUntil } from '../../../core/deadline.js';
import type { Ack, MachineControls } from '../../machine.js';
import type { QemuMachine } from '../machine.js';

let cpuCounter = 0;

/**
 * vCPU hot-plug: `device_add` of the next free slot `query-hotpluggable-cpus` reports, onlined by
 * the guest's auto-online listener or through the agent. Unplug offlines through the agent: a real
 * CPU `device_del` corrupts QEMU 7.2 under TCG (QEMU-NOTES), so it is not used here.
 */
export function createCpuControl(machine: QemuMachine): NonNullable<MachineControls['cpus']> {
  return {
    async plug(): Promise<Ack> {
      const slots = await machine.qmp.execute('query-hotpluggable-cpus');
      const free = slots.filter((s) => !s['qom-path']).sort((a, b) => order(a.props) - order(b.props));
      const slot = free[0];
      if (!slot) {
        throw new InfrastructureError('NO_CPU_SLOT', `no free vCPU slot: all ${slots.length} are in use (raise maxvcpus in the matrix)`);
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
      const vcpus = await machine.agent.getVcpus();
      const victim = vcpus.filter((v) => v.online && v['logical-id'] !== 0 && v['can-offline'] !== false).sort((a, b) => b['logical-id'] - a['logical-id'])[0];
      if (!victim) throw new InfrastructureError('NO_CPU_TO_OFFLINE', 'only CPU 0 is online; it cannot be offlined');
      await machine.agent.setVcpus([{ 'logical-id': victim['logical-id'], online: false }]);
      return { acknowledgedAt: performance.now(), metrics: {}, detail: { logicalId: victim['logical-id'], method: 'offline through the guest agent (CPU device_del is unsafe on QEMU 7.2)' } };
    },
  };
}

function order(props: { 'socket-id'?: number; 'core-id'?: number; 'thread-id'?: number }): number {
  return (props['socket-id'] ?? 0) * 1_000_000 + (props['core-id'] ?? 0) * 1_000 + (props['thread-id'] ?? 0);
}
