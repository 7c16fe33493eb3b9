import { ConfigError } from '../core/errors.js';
import type { TimelineEvent } from '../model/cell.js';
import type { EventKind } from './kind.js';
import { cpuPlug } from './cpu-plug.js';
import { cpuUnplug } from './cpu-unplug.js';
import { cpuOffline } from './cpu-offline.js';
import { cpuOnline } from './cpu-online.js';
import { memPlug } from './mem-plug.js';
import { memUnplug } from './mem-unplug.js';
import { balloon } from './balloon.js';
import { pause } from './pause.js';
import { clockCorrect } from './clock-correct.js';
import { migrate } from './migrate.js';
import { memoryPressure } from './memory-pressure.js';
import { containerCpus } from './container-cpus.js';
import { containerMemory } from './container-memory.js';

const KINDS: EventKind[] = [
  cpuPlug,
  cpuUnplug,
  memPlug,
  memUnplug,
  balloon,
  pause,
  clockCorrect,
  migrate,
  cpuOffline,
  cpuOnline,
  memoryPressure,
  containerCpus,
  containerMemory,
];

export const eventKinds: ReadonlyMap<string, EventKind> = new Map(KINDS.map((k) => [k.kind, k]));

/** The names the matrix loader accepts for `do:`. */
export const knownEventKinds: string[] = KINDS.map((k) => k.kind);

/** The kind of an event; an unknown name is a ConfigError listing the known ones. */
export function eventKindOf(event: Pick<TimelineEvent, 'kind'>): EventKind {
  const kind = eventKinds.get(event.kind);
  if (!kind) throw new ConfigError('EVENT_UNKNOWN', `unknown event kind "${event.kind}"; known: ${knownEventKinds.join(', ')}`);
  return kind;
}

/** Check an event's kind and parameters before anything runs (ConfigError naming the parameter). */
export function validateEvent(event: Pick<TimelineEvent, 'kind' | 'params'>): unknown {
  return eventKindOf(event).validate(event.params ?? {});
}
