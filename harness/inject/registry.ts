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
import { containerCpus, containerMemory } from './container-limits.js';

const KINDS: EventKind[] = [cpuPlug, cpuUnplug, memPlug, memUnplug, balloon, pause, clockCorrect, migrate, cpuOffline, cpuOnline, memoryPressure, containerCpus, containerMemory];

export const eventKinds: ReadonlyMap<string, EventKind> = new Map(KINDS.map((k) => [k.kind, k]));

/** The names the matrix loader accepts for `do:`. */
export const knownEventKinds: string[] = KINDS.map((k) => k.kind);
