import { InfrastructureError } from '../../../core/errors.js';
import type { Ack, MachineControls } from '../../machine.js';
import type { QemuMachine } from '../machine.js';

let dimmCounter = 0;

/** pc-dimm hot-plug: `object-add memory-backend-ram` + `device_add pc-dimm`; unplug waits for DEVICE_DELETED. */
export function createMemoryControl(machine: QemuMachine): NonNullable<MachineControls['memory']> {
  return {
    async plug(sizeMiB: number): Promise<Ack & { id: string }> {
      const n = ++dimmCounter;
      const memdev = `bwmem${n}`;
      const id = `bwdimm${n}`;
      const objectArgs = { 'qom-type': 'memory-backend-ram', id: memdev, size: sizeMiB * 1024 * 1024 };
      await machine.qmp.execute('object-add', objectArgs);
      machine.hotplugged.push({ id: memdev, command: 'object-add', args: objectArgs });
      const deviceArgs = { driver: 'pc-dimm', id, memdev };
      await machine.qmp.execute('device_add', deviceArgs);
      machine.hotplugged.push({ id, command: 'device_add', args: deviceArgs });
      return { id, acknowledgedAt: performance.now(), metrics: {}, detail: { dimm: id, memdev, sizeMiB } };
    },
    async unplug(id?: string): Promise<Ack> {
      const dimm = id ?? [...machine.hotplugged].reverse().find((r) => r.command === 'device_add' && r.args.driver === 'pc-dimm')?.id;
      if (!dimm) throw new InfrastructureError('NO_DIMM', 'no hot-plugged DIMM to unplug');
      const record = machine.hotplugged.find((r) => r.id === dimm);
      const memdev = record?.args.memdev as string | undefined;
      const deleted = machine.qmp.waitForEvent('DEVICE_DELETED', { match: { device: dimm }, timeoutMs: 15_000 });
      await machine.qmp.execute('device_del', { id: dimm });
      try {
        await deleted;
      } catch (error) {
        throw new InfrastructureError('DIMM_UNPLUG_REFUSED', `the guest did not release DIMM ${dimm} within 15 s (its memory may be in use: not movable)`, { cause: error });
      }
      const acknowledgedAt = performance.now();
      if (memdev) await machine.qmp.execute('object-del', { id: memdev });
      for (const gone of [dimm, memdev]) {
        const index = machine.hotplugged.findIndex((r) => r.id === gone);
        if (index >= 0) machine.hotplugged.splice(index, 1);
      }
      return { acknowledgedAt, metrics: {}, detail: { dimm, memdev } };
    },
  };
}
