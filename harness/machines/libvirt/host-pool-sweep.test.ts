import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { projectRoot } from '../../core/project-root.js';
import { pollUntil } from '../../core/deadline.js';
import { currentUid } from '../../core/private-dir.js';
import { sweepLeftovers } from '../../run/sweep-leftovers.js';
import { poolTestBed } from './pool-test-bed.test-helper.js';
import { domainName, OWNER_NS } from './owner.js';
import { recordDir } from './owner-record.js';
import { instanceUri, virsh } from './virsh.js';

const dist = (path: string) => JSON.stringify(join(projectRoot(), 'dist', 'harness', path));

/**
 * Issue 17: a harness killed with SIGKILL while its cell ran on a remote pool daemon (reached over
 * qemu+ssh, unknown to a later start's local sweep) leaves a running domain there; the next start
 * finds the daemon in the dead harness's record and removes the domain. Uses dist/ (npx tsc first).
 */
describe('domains a SIGKILLed harness left on pool daemons', () => {
  const { dir, tag, uri } = poolTestBed('pool-sweep');


  it('are removed at the next start; a domain of another machine\'s harness on the same daemon is kept', { timeout: 240_000 }, async () => {
    const file = join(dir, 'pool.yaml');
    writeFileSync(file, `name: pool-sweep\napp: {command: ["true"], timeout: 60s}\ndefaults: {backend: libvirt, memory: 384M, run: "${tag}"}\nhosts:\n  - {name: host-b, address: 127.0.0.1, libvirt: "${uri('b')}"}\n`);
    // The harness that dies: places its one cell on the pool daemon and boots it.
    const script = `const [{ loadMatrix }, { expandMatrix }, { HostPool }, { createMachineFactory }, { probeKvm }, { ensureDefaultImage }, { rootScope }] = await Promise.all([
  import(${dist('matrix/load.js')}), import(${dist('matrix/expand.js')}), import(${dist('machines/hosts/pool.js')}),
  import(${dist('run/start-machine.js')}), import(${dist('machines/qemu/accel.js')}), import(${dist('images/default-image.js')}), import(${dist('core/scope.js')})]);
const matrix = await loadMatrix(${JSON.stringify(file)});
const [cell] = expandMatrix(matrix).cells;
const start = createMachineFactory({ kvm: await probeKvm(await ensureDefaultImage()), hosts: new HostPool(matrix.doc.hosts), appFiles: async () => [] });
console.log('cell ' + cell.id);
await start(cell, rootScope.child('cell'));
setInterval(() => {}, 1000);`;
    const harness = execa(process.execPath, ['--input-type=module', '-e', script], { reject: false, cwd: projectRoot() });
    const foreign = `bw-sweep-foreign-${tag}`;
    try {
      const cellId = await new Promise<string>((resolve, reject) => {
        harness.stdout!.on('data', (chunk: Buffer) => {
          const id = /cell (\S+)/.exec(String(chunk))?.[1];
          if (id) resolve(id);
        });
        harness.then((r) => reject(new Error(`the harness exited: ${r.stderr}`)), reject);
      });
      const domain = domainName(cellId);
      // Killed as soon as its domain exists on the daemon (booting or up): the record was written before the define.
      const onB = instanceUri('b');
      await pollUntil(() => virsh(onB, ['domstate', domain]), (state) => state.trim() === 'running', { timeoutMs: 120_000, intervalMs: 100, what: `domain ${domain} running on daemon b` });
      harness.kill('SIGKILL');
      await harness;
      expect((await virsh(onB, ['domstate', domain])).trim()).toBe('running');

      // Another machine's harness (same uid, a dead-looking token here) on the same daemon: not ours to sweep.
      const foreignXml = `<domain type='qemu'><name>${foreign}</name><memory unit='MiB'>32</memory><os><type arch='x86_64'>hvm</type></os><metadata><bw:owner xmlns:bw="${OWNER_NS}" token="/nonexistent/alive.sock" host="0000000000000000" uid="${currentUid()}"/></metadata></domain>`;
      writeFileSync(join(dir, 'foreign.xml'), foreignXml);
      await virsh(onB, ['define', join(dir, 'foreign.xml')]);

      // The next start, whose local daemons are elsewhere: only the dead harness's record names the pool daemon.
      const naming = () => readdirSync(recordDir()).filter((f) => f.endsWith('.json') && readFileSync(join(recordDir(), f), 'utf8').includes(JSON.stringify(uri('b'))));
      expect(naming()).toHaveLength(1);
      const removed = await withEnv({ BOTHWORLDS_LIBVIRT_URI: uri('a'), BOTHWORLDS_LIBVIRT_MIGRATION_URI: uri('a') }, () => sweepLeftovers());
      expect(removed).toContain(`domain ${domain} on ${uri('b')}`);
      const left = (await virsh(onB, ['list', '--all', '--name'])).split('\n');
      expect(left).not.toContain(domain);
      expect(left).toContain(foreign);
      // The daemon answered: the dead harness's record is settled.
      expect(naming()).toEqual([]);
    } finally {
      harness.kill('SIGKILL');
      await virsh(instanceUri('b'), ['undefine', foreign]).catch(() => undefined);
    }
  });
});

async function withEnv<T>(env: Record<string, string>, work: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await work();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
