import type { MachineSpec } from '../model/machine-spec.js';
import { configurationOf } from './plan.js';

/** Where a configuration stands: no cell started, its snapshot being made, restorable, or booting cold. */
export type ConfigurationState = 'new' | 'pending' | 'ready' | 'cold';

interface Schedulable {
  id: string;
  backend: string;
  machine: MachineSpec;
}

/**
 * Which cell to start next when a runner slot frees, so that no slot holds a cell that can only
 * wait: a cell that boots cold (a configuration's first, its donor; or a configuration that
 * boots cold) starts only while fewer than `bootWidth` boots run (TCG boots are CPU-bound, one
 * per core); a cell whose configuration's snapshot exists starts at once; a cell whose snapshot
 * is still being made waits for it without a slot. Boots come first: a donor unlocks its clones.
 * The snapshot pool reports boots ending and snapshots settling; `onChange` re-runs the pick.
 */
export class SnapshotSchedule<T extends Schedulable> {
  private readonly states = new Map<string, ConfigurationState>();
  private readonly booting = new Set<string>();
  /** The cell whose start made its configuration 'pending', until the pool decides. */
  private readonly deciding = new Map<string, string>();
  private readonly listeners: Array<() => void> = [];

  constructor(readonly bootWidth: number) {}

  /** The index in `waiting` of the cell to start now, or undefined to wait for a change. */
  pick(waiting: readonly T[]): number | undefined {
    const canBoot = this.booting.size < this.bootWidth;
    let restore: number | undefined;
    let cold: number | undefined;
    for (let i = 0; i < waiting.length; i++) {
      const cell = waiting[i]!;
      // Other backends have no snapshots and no boot gate here: they take slots in order.
      if (cell.backend !== 'qemu') return i;
      const state = this.state(cell.machine);
      if (state === 'new' && canBoot) return this.boot(cell, i);
      if (state === 'ready') restore ??= i;
      else if (state === 'cold') cold ??= i;
    }
    if (cold !== undefined && canBoot) return this.boot(waiting[cold]!, cold);
    return restore;
  }

  /** A cell's cold boot ended (or it did not boot, or it finished): a boot slot is free. */
  bootEnded(id: string): void {
    if (this.booting.delete(id)) this.changed();
  }

  /**
   * What the pool decided or learnt for a configuration. `undecided`: only if nothing was decided
   * yet (a cell that boots cold for a reason of its own, a boot-time suite, says its siblings may too).
   */
  settle(spec: MachineSpec, state: ConfigurationState, options: { undecided?: boolean } = {}): void {
    const key = configurationOf(spec);
    const now = this.states.get(key) ?? 'new';
    if (now === state || (options.undecided && now !== 'new' && now !== 'pending')) return;
    this.states.set(key, state);
    this.deciding.delete(key);
    this.changed();
  }

  /** A cell finished: a configuration it left undecided (it failed before the pool saw it) is open again. */
  finished(cell: T): void {
    const key = configurationOf(cell.machine);
    if (this.deciding.get(key) === cell.id && this.states.get(key) === 'pending') {
      this.states.set(key, 'new');
      this.deciding.delete(key);
    }
    this.booting.delete(cell.id);
    this.changed();
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  state(spec: MachineSpec): ConfigurationState {
    return this.states.get(configurationOf(spec)) ?? 'new';
  }

  private boot(cell: T, index: number): number {
    this.booting.add(cell.id);
    // Its siblings wait for what it decides (a snapshot, or cold) instead of booting beside it.
    if (this.state(cell.machine) === 'new') {
      this.states.set(configurationOf(cell.machine), 'pending');
      this.deciding.set(configurationOf(cell.machine), cell.id);
    }
    return index;
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}

/** What the snapshot pool tells a schedule (the runner's): boots ending, configurations settling. */
export type ScheduleEvents = Pick<SnapshotSchedule<Schedulable>, 'bootEnded' | 'settle'>;
