import { BothworldsError } from '../core/errors.js';
import { didYouMean } from './did-you-mean.js';
import { MAX_REPEAT } from './limits.js';
import type { DocPath } from './positions.js';
import type { CheckContext, RawStep } from './raw.js';
import { parseDuration } from './units.js';

export const DEFAULT_EVENT_KINDS = [
  'cpu-plug', 'cpu-unplug', 'mem-plug', 'mem-unplug', 'balloon', 'pause', 'clock-correct', 'migrate',
  'cpu-offline', 'cpu-online', 'memory-pressure', 'container-cpus', 'container-memory',
];

const DEFAULT_CELL_TIMEOUT_MS = 300_000;

const durationOrUndefined = (value: unknown): number | undefined => {
  try {
    return value === undefined ? undefined : parseDuration(value as string | number);
  } catch {
    return undefined; // the schema already reported it
  }
};

/**
 * Every scenario step: a known kind, one trigger, valid regular expressions, parameters its kind
 * accepts (validated by the kind itself), and a repeat that ends inside the cell's timeout.
 */
export function checkScenarios(ctx: CheckContext): void {
  const { raw, at } = ctx;
  const kinds = ctx.options.eventKinds ? [...ctx.options.eventKinds.keys()] : (ctx.options.knownEventKinds ?? DEFAULT_EVENT_KINDS);
  const timeoutMs = raw.timeout === undefined ? DEFAULT_CELL_TIMEOUT_MS : durationOrUndefined(raw.timeout);
  for (const [name, steps] of Object.entries(raw.scenarios ?? {})) {
    if (!Array.isArray(steps)) continue;
    steps.forEach((step, i) => {
      if (step === null || typeof step !== 'object') return;
      const here: DocPath = ['scenarios', name, i];
      if (typeof step.do === 'string' && !kinds.includes(step.do)) {
        at([...here, 'do'], `unknown event kind "${step.do}"${didYouMean(step.do, kinds)}; known kinds: ${kinds.join(', ')}`);
      } else if (typeof step.do === 'string') checkParams(ctx, here, step);
      const triggers = ['at', 'on', 'on_console'].filter((t) => t in step);
      if (triggers.length !== 1) at(here, `a step needs exactly one trigger: at (a time offset), on (an app output pattern) or on_console`);
      for (const key of ['on', 'on_console'] as const) {
        if (typeof step[key] === 'string') checkRegex(ctx, [...here, key], step[key]);
      }
      checkTiming(ctx, here, step, timeoutMs);
    });
  }
  if (typeof raw.app?.ready === 'string') checkRegex(ctx, ['app', 'ready'], raw.app.ready);
}

function checkParams(ctx: CheckContext, here: DocPath, step: RawStep): void {
  const kind = ctx.options.eventKinds?.get(step.do);
  if (!kind || (step.with !== undefined && (step.with === null || typeof step.with !== 'object'))) return;
  try {
    kind.validate(step.with ?? {});
  } catch (error) {
    const details = error instanceof BothworldsError ? error.details : {};
    const param = typeof details.param === 'string' ? details.param : undefined;
    const present = param !== undefined && step.with !== undefined && param in step.with;
    const path: DocPath = present ? [...here, 'with', param] : step.with !== undefined ? [...here, 'with'] : [...here, 'do'];
    ctx.at(path, error instanceof Error ? error.message : String(error), present && details.key === true);
  }
}

function checkTiming(ctx: CheckContext, here: DocPath, step: RawStep, timeoutMs: number | undefined): void {
  const repeat = step.repeat;
  const everyMs = repeat && typeof repeat === 'object' ? durationOrUndefined(repeat.every) : undefined;
  const count = repeat && typeof repeat === 'object' && Number.isInteger(repeat.count) && repeat.count >= 1 && repeat.count <= MAX_REPEAT ? repeat.count : undefined;
  if (everyMs !== undefined && everyMs <= 0) {
    ctx.at([...here, 'repeat', 'every'], `repeat.every must be more than 0 (e.g. 5s): repeats would all fire at once`);
    return;
  }
  if (timeoutMs === undefined) return;
  const atMs = step.at !== undefined ? durationOrUndefined(step.at) : 0;
  if (atMs === undefined) return;
  const lastMs = atMs + (count !== undefined && everyMs !== undefined ? count * everyMs : 0);
  if (lastMs >= timeoutMs) {
    const what = count !== undefined && everyMs !== undefined ? `its last repeat (${count} × ${everyMs} ms after ${atMs} ms) fires at ${lastMs} ms` : `it fires at ${atMs} ms`;
    ctx.at(count !== undefined && everyMs !== undefined ? [...here, 'repeat'] : [...here, 'at'], `${what}, at or after the cell's timeout of ${timeoutMs} ms (\`timeout\`): it could never run`);
  }
}

function checkRegex(ctx: CheckContext, path: DocPath, pattern: string): void {
  try {
    new RegExp(pattern);
  } catch (error) {
    ctx.at(path, `not a valid regular expression: ${(error as Error).message}`);
  }
}
