import { describe, expect, it } from 'vitest';
import { DEFAULT_MACHINE } from '../model/machine-spec.js';
import { SnapshotSchedule } from './schedule.js';

const spec = (cpuModel: string) => ({ ...DEFAULT_MACHINE, cpuModel });
const cell = (id: string, backend = 'qemu') => ({ id, backend, machine: spec(id[0]!) });
/** Cells a1..a3, b1..b3, c1..c3 in run order: three configurations of three cells. */
const cells = ['a', 'b', 'c'].flatMap((k) => [1, 2, 3].map((r) => cell(`${k}${r}`)));

/** Start what the schedule picks until it picks nothing; returns the ids started. */
function drain(schedule: SnapshotSchedule<ReturnType<typeof cell>>, waiting: Array<ReturnType<typeof cell>>): string[] {
  const started: string[] = [];
  for (let i = schedule.pick(waiting); i !== undefined; i = schedule.pick(waiting)) started.push(waiting.splice(i, 1)[0]!.id);
  return started;
}

describe('snapshot schedule', () => {
  it('starts one boot per core, each a different configuration’s first cell, and nothing that could only wait', () => {
    const schedule = new SnapshotSchedule(2);
    const waiting = [...cells];
    expect(drain(schedule, waiting)).toEqual(['a1', 'b1']);
    expect(schedule.state(spec('a'))).toBe('pending');
    expect(schedule.state(spec('c'))).toBe('new');
  });

  it('starts a configuration’s clones once its snapshot exists, and the next donor once a boot ends', () => {
    const schedule = new SnapshotSchedule(2);
    const waiting = [...cells];
    drain(schedule, waiting);
    let changes = 0;
    schedule.onChange(() => changes++);
    // a1 booted (its save follows: the next boot may start), then its snapshot is saved.
    schedule.bootEnded('a1');
    expect(drain(schedule, waiting)).toEqual(['c1']);
    schedule.settle(spec('a'), 'ready');
    expect(drain(schedule, waiting)).toEqual(['a2', 'a3']);
    expect(changes).toBe(2);
    // b's donor is still booting: its clones wait without a slot.
    expect(waiting.map((c) => c.id)).toEqual(['b2', 'b3', 'c2', 'c3']);
  });

  it('boots a cold configuration’s cells one per core, after any configuration’s first cell', () => {
    const schedule = new SnapshotSchedule(1);
    const waiting = [cell('a1'), cell('a2'), cell('b1')];
    expect(drain(schedule, waiting)).toEqual(['a1']);
    schedule.settle(spec('a'), 'cold');
    schedule.bootEnded('a1');
    // b1 may donate for its configuration: it goes before a2, which only boots.
    expect(drain(schedule, waiting)).toEqual(['b1']);
    schedule.bootEnded('b1');
    expect(drain(schedule, waiting)).toEqual(['a2']);
  });

  it('opens a configuration again when its first cell finished before the pool decided (it failed early)', () => {
    const schedule = new SnapshotSchedule(2);
    const waiting = [cell('a1'), cell('a2')];
    expect(drain(schedule, waiting)).toEqual(['a1']);
    schedule.finished(cell('a1'));
    expect(schedule.state(spec('a'))).toBe('new');
    expect(drain(schedule, waiting)).toEqual(['a2']);
  });

  it('lets a cell that boots cold for its own reason not hold back its siblings, and not undo a decision', () => {
    const schedule = new SnapshotSchedule(2);
    drain(schedule, [cell('a1')]);
    schedule.settle(spec('a'), 'cold', { undecided: true });
    expect(schedule.state(spec('a'))).toBe('cold');
    schedule.settle(spec('b'), 'ready');
    schedule.settle(spec('b'), 'cold', { undecided: true });
    expect(schedule.state(spec('b'))).toBe('ready');
  });

  it('starts cells of other backends in order: they have no snapshots', () => {
    const schedule = new SnapshotSchedule(1);
    const waiting = [cell('a1'), cell('a2'), cell('l1', 'local'), cell('l2', 'local')];
    expect(drain(schedule, waiting)).toEqual(['a1', 'l1', 'l2']);
  });
});
