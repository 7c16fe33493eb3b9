import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { ResourceScope } from '../../core/scope.js';
import { UnsupportedError } from '../../core/errors.js';
import { CONTAINER_LABEL, startContainerMachine, type ContainerMachine } from './index.js';

const ourContainers = async () => (await execa('docker', ['ps', '-aq', '--filter', `label=${CONTAINER_LABEL}=container-test`])).stdout.trim();

/** A real dockerd (started by scripts/services/dockerd.sh), a real container through testcontainers. */
describe('container backend', () => {
  const scope = new ResourceScope('container-test');
  let machine: ContainerMachine;

  beforeAll(async () => {
    await execa('bash', ['scripts/services/dockerd.sh'], { cwd: new URL('../../..', import.meta.url).pathname });
    const started = performance.now();
    machine = await startContainerMachine({ cpus: 1, memoryMiB: 256, name: 'container-test' }, { scope });
    console.log(`container start → exec ready ${(performance.now() - started).toFixed(0)} ms`);
  });
  afterAll(async () => {
    await scope.dispose();
    expect(await ourContainers()).toBe('');
  });

  it('runs commands and sees the cell limits from inside', async () => {
    const t0 = performance.now();
    const result = await machine.exec(['sh', '-c', 'echo $X; exit 3'], { env: { X: 'inside' } });
    console.log(`container exec round trip ${(performance.now() - t0).toFixed(0)} ms`);
    expect(result).toMatchObject({ exitCode: 3, stdout: 'inside\n' });
    const facts = await machine.facts();
    expect(facts.onlineCpus).toBe(1);
    const limit = await machine.exec(['cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes']);
    expect(Number(limit.stdout)).toBe(256 * 1024 * 1024);
  });

  it('raises the CPU limit live and the application sees nproc change', async () => {
    const app = await machine.spawn(['sh', '-c', 'while true; do echo "nproc=$(nproc)"; sleep 0.1; done']);
    await machine.output.waitForLine(/^nproc=1$/, 10_000, 'app');
    const t0 = performance.now();
    await machine.controls.cpus!.plug();
    await machine.output.waitForLine(/^nproc=2$/, 10_000, 'app');
    console.log(`docker update --cpuset-cpus → nproc visible to the app ${(performance.now() - t0).toFixed(0)} ms`);
    await machine.controls.cpus!.unplug();
    await app.kill('TERM');
    expect(await app.isRunning()).toBe(false);
  });

  it('changes the memory limit live, pauses and resumes, and says why it cannot migrate', async () => {
    await machine.controls.balloon!.setTargetMiB(128, 10_000);
    const limit = await machine.exec(['cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes']);
    expect(Number(limit.stdout)).toBe(128 * 1024 * 1024);
    await machine.controls.pause!.pause();
    const state = (await execa('docker', ['inspect', '-f', '{{.State.Paused}}', machine.container.getId()])).stdout.trim();
    expect(state).toBe('true');
    await machine.controls.pause!.resume();
    expect((await machine.exec(['true'])).exitCode).toBe(0);
    expect(machine.controls.migrate).toBeUndefined();
    expect(machine.controls.unsupportedReason.migrate).toMatch(/CRIU/);
  });

  it('moves files in and out', async () => {
    await machine.writeFile('/opt/bothworlds/app/hello', '#!/bin/sh\necho hello\n', 0o755);
    expect((await machine.exec(['hello'])).stdout).toBe('hello\n');
    expect((await machine.readFile('/opt/bothworlds/app/hello')).toString()).toContain('echo hello');
  });

  it('is skipped with the reason quickly when no Docker engine is reachable', async () => {
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = 'unix:///nonexistent/docker.sock';
    try {
      const t0 = performance.now();
      const error = await startContainerMachine({ cpus: 1, memoryMiB: 64 }, { scope }).catch((e: unknown) => e);
      expect(performance.now() - t0).toBeLessThan(6_000);
      expect(error).toBeInstanceOf(UnsupportedError);
      expect((error as Error).message).toMatch(/no Docker engine is reachable/);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });
});
