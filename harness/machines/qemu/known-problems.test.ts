import { afterAll, describe, expect, it } from 'vitest';
import { ResourceScope } from '../../core/scope.js';
import { DEFAULT_MACHINE } from '../../model/machine-spec.js';
import { qemuVersion } from './binary.js';
import { compareSeries, hasKnownProblem, knownProblemsOf } from './known-problems.js';
import { startQemuMachine } from './machine.js';
import { probeCpuDeviceDel } from './controls/cpu-unplug-probe.js';

const v = (major: number, minor: number) => ({ major, minor });

describe('known QEMU problems', () => {
  it('orders versions by series', () => {
    expect(compareSeries(v(7, 2), '7.2')).toBe(0);
    expect(compareSeries(v(10, 0), '7.2')).toBe(1);
    expect(compareSeries(v(7, 10), '10.0')).toBe(-1);
  });

  it('names the multi-vCPU migration corruption on 7.2 under TCG, not on 10.0 or under KVM', () => {
    expect(hasKnownProblem(v(7, 2), 'multi-vcpu-migration-corruption', 'tcg')).toBe(true);
    expect(hasKnownProblem(v(7, 2), 'multi-vcpu-migration-corruption')).toBe(true);
    expect(hasKnownProblem(v(7, 2), 'multi-vcpu-migration-corruption', 'kvm')).toBe(false);
    // Between the last version measured bad and the first measured good: still listed.
    expect(hasKnownProblem(v(8, 2), 'multi-vcpu-migration-corruption', 'tcg')).toBe(true);
    expect(hasKnownProblem(v(10, 0), 'multi-vcpu-migration-corruption', 'tcg')).toBe(false);
  });

  it('names broken vCPU device_del under TCG on 7.2 and 10.0', () => {
    expect(knownProblemsOf(v(7, 2), 'tcg').map((p) => p.id)).toEqual(['multi-vcpu-migration-corruption', 'cpu-device-del']);
    expect(knownProblemsOf(v(10, 0), 'tcg').map((p) => p.id)).toEqual(['cpu-device-del']);
    expect(knownProblemsOf(v(10, 0), 'kvm')).toEqual([]);
    expect(knownProblemsOf(v(6, 2), 'tcg')).toEqual([]);
  });

  describe('on the QEMU that runs here', () => {
    const scope = new ResourceScope('known-problems-test');
    afterAll(() => scope.dispose());

    it("agrees with the vCPU device_del probe (cached per QEMU version)", async () => {
      const machine = await startQemuMachine({ ...DEFAULT_MACHINE, vcpus: 1, maxVcpus: 2, memoryMiB: 256 }, { scope, name: 'known-problems' });
      const probe = await probeCpuDeviceDel(machine);
      const version = await qemuVersion();
      console.log(`QEMU ${version.major}.${version.minor}.${version.micro} (${machine.accel}): device_del works=${probe.works}; known problems: ${knownProblemsOf(version, machine.accel).map((p) => p.id).join(', ') || 'none'}`);
      expect(hasKnownProblem(version, 'cpu-device-del', machine.accel)).toBe(!probe.works);
    });
  });
});
