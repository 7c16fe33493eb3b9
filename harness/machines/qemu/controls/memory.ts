import { InfrastructureError } from '../../../core/errors.js';
import { metric } from '../../../model/metrics.js';
import type { QmpEvent } from '../../../qmp/client.js';
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
      // Pin the slot and address QEMU chose, so a migration destination replays the same layout
      // (after an unplug the next DIMM may not land where a fresh QEMU would put it).
      const placed = (await machine.qmp.execute('query-memory-devices')).find((d) => d.type === 'dimm' && d.data.id === id);
      const pinned = placed?.type === 'dimm' ? { ...deviceArgs, addr: placed.data.addr, slot: placed.data.slot } : deviceArgs;
      machine.hotplugged.push({ id, command: 'device_add', args: pinned });
      return { id, acknowledgedAt: performance.now(), metrics: {}, detail: { dimm: id, memdev, sizeMiB } };
    },
    async unplug(id?: string, stallMs = 15_000): Promise<Ack> {
      const dimm = id ?? [...machine.hotplugged].reverse().find((r) => r.command === 'device_add' && r.args.driver === 'pc-dimm')?.id;
      if (!dimm) throw new InfrastructureError('NO_DIMM', 'no hot-plugged DIMM to unplug');
      const record = machine.hotplugged.find((r) => r.id === dimm);
      const memdev = record?.args.memdev as string | undefined;
      const started = performance.now();
      await ejected(machine, dimm, stallMs);
      const acknowledgedAt = performance.now();
      if (memdev) await machine.qmp.execute('object-del', { id: memdev });
      for (const gone of [dimm, memdev]) {
        const index = machine.hotplugged.findIndex((r) => r.id === gone);
        if (index >= 0) machine.hotplugged.splice(index, 1);
      }
      return { acknowledgedAt, metrics: { unplug_ms: metric(acknowledgedAt - started, 'ms') }, detail: { dimm, memdev } };
    },
  };
}

/** ACPI _OST status codes a guest answers an eject request with (ACPI 6, table 6-207). */
const OST_STATUS: Record<number, string> = {
  1: 'non-specific failure',
  0x80: 'ejection not supported by the guest',
  0x81: 'device in use by an application',
  0x82: 'device busy',
  0x83: 'ejection dependency is busy',
};

/**
 * `device_del`, then DEVICE_DELETED (subscribed first). A guest that cannot offline the DIMM's
 * memory answers the eject with an ACPI _OST failure (QEMU's ACPI_DEVICE_OST event): that is
 * reported at once with the guest's reason instead of waiting out the deadline.
 */
async function ejected(machine: QemuMachine, dimm: string, stallMs: number): Promise<void> {
  let onEvent!: (event: QmpEvent) => void;
  const refused = new Promise<never>((_, reject) => {
    onEvent = (event) => {
      const info = (event.data.info ?? {}) as { device?: string; status?: number; source?: number };
      if (event.event !== 'ACPI_DEVICE_OST' || info.device !== dimm || !info.status || info.status === 0x84) return;
      reject(
        new InfrastructureError(
          'DIMM_UNPLUG_REFUSED',
          `the guest refused to eject DIMM ${dimm}: ACPI _OST status 0x${info.status.toString(16)} (${OST_STATUS[info.status] ?? 'unknown'}); its memory is in use (not movable: online it as online_movable to make it removable)`,
        ),
      );
    };
  });
  machine.qmp.on('event', onEvent);
  const deleted = machine.qmp.waitForEvent('DEVICE_DELETED', { match: { device: dimm }, timeoutMs: MAX_EJECT_MS });
  deleted.catch(() => undefined);
  refused.catch(() => undefined);
  const watch = watchOfflining(machine, stallMs);
  try {
    await machine.qmp.execute('device_del', { id: dimm });
    await Promise.race([deleted, refused, watch.stalled]).catch((error: unknown) => {
      if (error instanceof InfrastructureError && error.code === 'DIMM_UNPLUG_REFUSED') throw error;
      throw new InfrastructureError(
        'DIMM_UNPLUG_REFUSED',
        `the guest did not release DIMM ${dimm}: ${error instanceof OfflineStalled ? error.message : `not within ${MAX_EJECT_MS} ms`} (its memory may be in use: not movable)`,
        { cause: error },
      );
    });
  } finally {
    watch.stop();
    machine.qmp.off('event', onEvent);
  }
}

/** However long a guest keeps making progress, an eject ends by then. */
const MAX_EJECT_MS = 120_000;

class OfflineStalled extends Error {}

/**
 * Offlining a DIMM migrates every page in use off it: ~20 ms on an idle guest, but over 10 s for a
 * 256 MiB DIMM of a guest dirtying memory on a loaded TCG host (soak run 1, host load 18). So the
 * wait has no fixed length: it goes on while the guest keeps taking memory blocks offline (the
 * agent's guest-get-memory-blocks), and ends once none went for `stallMs`.
 */
function watchOfflining(machine: QemuMachine, stallMs: number): { stalled: Promise<never>; stop(): void } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    let online = Number.POSITIVE_INFINITY;
    let progressAt = performance.now();
    const tick = async (): Promise<void> => {
      if (stopped) return;
      const count = await machine.agent
        .getMemoryBlocks()
        .then((blocks) => blocks.filter((b) => b.online).length)
        .catch(() => online);
      if (count < online) {
        if (online !== Number.POSITIVE_INFINITY) progressAt = performance.now();
        online = count;
      }
      if (performance.now() - progressAt > stallMs) {
        reject(new OfflineStalled(`no memory block went offline for ${stallMs} ms (${online} online)`));
        return;
      }
      if (!stopped) {
        timer = setTimeout(() => {
          tick().catch(reject);
        }, 250);
      }
    };
    tick().catch(reject);
  });
  stalled.catch(() => undefined);
  return {
    stalled,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
