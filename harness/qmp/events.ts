import type { MigrationStatus } from './commands.js';

/**
 * `data` of the QMP events bothworlds waits for, after QEMU 7.2's QAPI schema. waitForEvent
 * returns `Record<string, unknown>`; narrow with `eventData(event, 'MIGRATION')`.
 */
export interface QmpEventDataMap {
  STOP: Record<string, never>;
  RESUME: Record<string, never>;
  SHUTDOWN: { guest: boolean; reason: 'none' | 'host-error' | 'host-qmp-quit' | 'host-qmp-system-reset' | 'host-signal' | 'host-ui' | 'guest-shutdown' | 'guest-reset' | 'guest-panic' | 'subsystem-reset' | 'snapshot-load' };
  POWERDOWN: Record<string, never>;
  RESET: { guest: boolean; reason: string };
  DEVICE_DELETED: { device?: string; path: string };
  DEVICE_UNPLUG_GUEST_ERROR: { device?: string; path: string };
  ACPI_DEVICE_OST: { info: { device?: string; slot: string; 'slot-type': string; source: number; status: number } };
  BALLOON_CHANGE: { actual: number };
  MEMORY_DEVICE_SIZE_CHANGE: { id?: string; size: number; 'qom-path': string };
  MIGRATION: { status: MigrationStatus };
  MIGRATION_PASS: { pass: number };
  RTC_CHANGE: { offset: number; 'qom-path': string };
  GUEST_PANICKED: { action: 'pause' | 'poweroff' | 'run'; info?: Record<string, unknown> };
  VSERPORT_CHANGE: { id: string; open: boolean };
  WATCHDOG: { action: string };
}

export type QmpEventName = keyof QmpEventDataMap;

/** The event's data under its schema type; throws when the event is another one. */
export function eventData<K extends QmpEventName>(event: { event: string; data: Record<string, unknown> }, name: K): QmpEventDataMap[K] {
  if (event.event !== name) throw new TypeError(`expected QMP event ${name}, got ${event.event}`);
  return event.data as QmpEventDataMap[K];
}


/** Every event of the map, at run time (checked against QEMU's own schema by the tests). */
export const QMP_EVENT_NAMES = [
  'STOP', 'RESUME', 'SHUTDOWN', 'POWERDOWN', 'RESET', 'DEVICE_DELETED', 'DEVICE_UNPLUG_GUEST_ERROR', 'ACPI_DEVICE_OST',
  'BALLOON_CHANGE', 'MEMORY_DEVICE_SIZE_CHANGE', 'MIGRATION', 'MIGRATION_PASS', 'RTC_CHANGE', 'GUEST_PANICKED',
  'VSERPORT_CHANGE', 'WATCHDOG',
] as const satisfies readonly QmpEventName[];

type MissingEvent = Exclude<QmpEventName, (typeof QMP_EVENT_NAMES)[number]>;
const everyEventListed: [MissingEvent] extends [never] ? true : MissingEvent = true;
void everyEventListed;
