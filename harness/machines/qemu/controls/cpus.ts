import { InfrastructureError, describeError } from '../../../core/errors.js';
import { pollUntil } from '../../../core/deadline.js';
import type { GuestVcpu } from '../../../qga/client.js';
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
        (list) => list.some((v) => !before.has(v['logical-id']) && vcpuRegistered(v)),
        { timeoutMs: 20_000, intervalMs: 20, what: `the guest to register hot-plugged vCPU ${id} (its sysfs online file)` },
      );
      const added = vcpus.filter((v) => !before.has(v['logical-id']) && vcpuRegistered(v));
      const onlinedBy = await onlineAdded(machine, added.map((v) => v['logical-id']));
      return { acknowledgedAt, metrics: {}, detail: { device: id, logicalIds: added.map((v) => v['logical-id']), onlinedBy } };
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

/**
 * Whether the guest kernel has finished registering a vCPU. qemu-ga reports a CPU whose sysfs
 * directory has no `online` file as online and not offline-able (that is how the boot CPU looks),
 * and a hot-added CPU's directory appears ~10 ms before its `online` file. A plug that took that
 * window's answer for "online" never onlined the CPU: 1 in ~100 plugs into restored clones
 * (docs/events.md). A hot-added CPU can always be offlined, so `can-offline: false` means "not yet".
 */
export function vcpuRegistered(vcpu: GuestVcpu): boolean {
  return vcpu['can-offline'] !== false;
}

/**
 * Bring the new vCPUs online and see them online. With auto-online the guest does it itself; if it
 * has not within 2 s (a busy TCG host delays the uevent), or an agent request did not take, the
 * agent asks again — a vCPU plug must not fail for want of a second request.
 */
async function onlineAdded(machine: QemuMachine, ids: number[]): Promise<string> {
  const offline = async () => (await machine.agent.getVcpus()).filter((v) => ids.includes(v['logical-id']) && !(v.online && vcpuRegistered(v))).map((v) => v['logical-id']);
  let by = machine.autoOnline ? 'guest auto-online' : 'guest agent';
  if (machine.autoOnline) {
    const left = await pollUntil(offline, (list) => list.length === 0, { timeoutMs: 2_000, intervalMs: 20, what: 'auto-online' }).catch(() => undefined);
    if (left) return by;
    by = 'guest agent (auto-online did not act within 2 s)';
  }
  for (let attempt = 1; ; attempt++) {
    const pending = await offline();
    if (pending.length === 0) return by;
    if (attempt > 3) throw new InfrastructureError('CPU_ONLINE', `the guest kept vCPU(s) ${pending.join(', ')} offline after ${attempt - 1} guest-set-vcpus requests`);
    await machine.agent.setVcpus(pending.map((id) => ({ 'logical-id': id, online: true }))).catch(() => undefined);
    await pollUntil(offline, (list) => list.length === 0, { timeoutMs: 3_000, intervalMs: 20, what: 'vCPUs online' }).catch(() => undefined);
  }
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
