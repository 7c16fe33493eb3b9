import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../core/project-root.js';
import { dockerUnavailableReason } from './docker.js';
import { sweepOrphanContainers } from './owner.js';

const dist = (path: string) => JSON.stringify(join(projectRoot(), 'dist', 'harness', path));

/** Issue 13, problem 5 (containers): a SIGKILLed harness's container is removed at the next start. */
describe('containers of a dead harness', async () => {
  const noDocker = await dockerUnavailableReason();

  it.skipIf(Boolean(noDocker))('carry their owner\'s labels and are swept once the owner is gone, not before', async () => {
    const script = `const { startContainerMachine } = await import(${dist('machines/container/index.js')});
const { ResourceScope } = await import(${dist('core/scope.js')});
const m = await startContainerMachine({ cpus: 1, memoryMiB: 64, name: 'sweep-test' }, { scope: new ResourceScope('sweep') });
console.log(m.container.getId());
setInterval(() => {}, 1000);`;
    const harness = execa(process.execPath, ['--input-type=module', '-e', script], { reject: false, env: { TESTCONTAINERS_RYUK_DISABLED: 'true' } });
    const id = await new Promise<string>((resolve, reject) => {
      harness.stdout!.on('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
      harness.then((r) => reject(new Error(`the stand-in harness exited: ${r.stderr}`)), reject);
    });
    try {
      const labels = JSON.parse((await execa('docker', ['inspect', '--format', '{{json .Config.Labels}}', id])).stdout) as Record<string, string>;
      expect(labels['dev.bothworlds.owner']).toMatch(/\/bothworlds-run-[A-Za-z0-9]{6}\/alive\.sock$/);
      expect(labels['dev.bothworlds.uid']).toBe(String(process.getuid!()));
      expect(await sweepOrphanContainers()).not.toContain(id); // its harness lives
      harness.kill('SIGKILL');
      await harness;
      expect((await execa('docker', ['inspect', id], { reject: false })).exitCode).toBe(0); // survived the kill -9
      expect(await sweepOrphanContainers()).toContain(id);
      expect((await execa('docker', ['inspect', id], { reject: false })).exitCode).not.toBe(0);
    } finally {
      harness.kill('SIGKILL');
      await execa('docker', ['rm', '-f', id], { reject: false });
    }
  });
});
