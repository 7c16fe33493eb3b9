import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../core/project-root.js';
import { makeTempDir } from '../../core/temp-dir.js';
import { domainName, sweepOrphanDomains, withOwnerMetadata } from './owner.js';
import { defaultUri, libvirtUnavailableReason, virsh } from './virsh.js';

const OWNER_JS = JSON.stringify(join(projectRoot(), 'dist', 'harness', 'machines', 'libvirt', 'owner.js'));
const tinyDomain = (name: string) => `<domain type='qemu'>\n  <name>${name}</name>\n  <memory unit='MiB'>32</memory>\n  <os><type arch='x86_64'>hvm</type></os>\n</domain>\n`;

/** Issue 13, problems 10 and 5 (libvirt). */
describe('libvirt domain names and owners', async () => {
  it('two cells that differ only past 60 characters get different names, each at most 60 long', () => {
    const base = `qemu-nehalem-vcpus1-maxvcpus4-memory512-machine-q35-${'x'.repeat(20)}`;
    const [a, b] = [domainName(`${base}-aaaaaa`), domainName(`${base}-bbbbbb`)];
    expect(a).not.toBe(b);
    expect(Math.max(a.length, b.length)).toBeLessThanOrEqual(60);
    expect(domainName('qemu-nehalem-abc123')).toBe('bw-qemu-nehalem-abc123');
    expect(domainName('a/b')).not.toBe(domainName('a-b')); // replaced characters cannot collide either
  });

  const uri = defaultUri();
  const noLibvirt = await libvirtUnavailableReason(uri);

  it.skipIf(Boolean(noLibvirt))('a domain defined by a harness that was SIGKILLed is removed at the next start; a live owner\'s is kept', async () => {
    const tag = Math.random().toString(36).slice(2, 8);
    const [orphan, kept] = [`bw-sweep-orphan-${tag}`, `bw-sweep-live-${tag}`];
    const dir = makeTempDir('owner-test-');
    // The dead harness: defines a domain carrying its owner metadata, then is killed.
    const script = `const { withOwnerMetadata } = await import(${OWNER_JS});
const { writeFileSync } = await import('node:fs');
writeFileSync(${JSON.stringify(join(dir, 'orphan.xml'))}, withOwnerMetadata(${JSON.stringify(tinyDomain(orphan))}));
console.log('defined'); setInterval(() => {}, 1000);`;
    const harness = execa(process.execPath, ['--input-type=module', '-e', script], { reject: false });
    try {
      await new Promise<void>((resolve, reject) => {
        harness.stdout!.on('data', () => resolve());
        harness.then((r) => reject(new Error(r.stderr)), reject);
      });
      await virsh(uri, ['define', join(dir, 'orphan.xml')]);
      writeFileSync(join(dir, 'kept.xml'), withOwnerMetadata(tinyDomain(kept)));
      await virsh(uri, ['define', join(dir, 'kept.xml')]);
      expect(await sweepOrphanDomains([uri])).toEqual([]);
      harness.kill('SIGKILL');
      await harness;
      expect(await sweepOrphanDomains([uri])).toEqual([`${orphan} on ${uri}`]);
      const names = await virsh(uri, ['list', '--all', '--name']);
      expect(names).not.toContain(orphan);
      expect(names).toContain(kept);
    } finally {
      harness.kill('SIGKILL');
      for (const name of [orphan, kept]) await virsh(uri, ['undefine', name]).catch(() => undefined);
    }
  });
});
