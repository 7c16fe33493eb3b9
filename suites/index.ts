import type { Suite } from '../harness/suite/api.js';
import { cpuModel } from './cpu-model.js';
import { clocks } from './clocks.js';
import { pmu } from './pmu.js';
import { hotplugAwareness } from './hotplug-awareness.js';
import { balloonSurvival } from './balloon-survival.js';
import { migrationSurvival } from './migration-survival.js';
import { memoryIntegrity } from './memory-integrity.js';

/** The built-in suites, by the name a matrix uses. */
export const builtinSuites: Record<string, Suite> = Object.fromEntries(
  [cpuModel, clocks, pmu, hotplugAwareness, balloonSurvival, migrationSurvival, memoryIntegrity].map((s) => [s.name, s]),
);
