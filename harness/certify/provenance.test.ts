import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../core/project-root.js';
import { ensureDefaultImage } from '../images/default-image.js';
import { expandMatrix } from '../matrix/expand.js';
import { parseMatrix } from '../matrix/load.js';
import { collectProvenance } from './provenance.js';

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('provenance', () => {
  it('hashes the kernel, initramfs and payload QEMU cells boot, and names the harness commit', async () => {
    const matrix = parseMatrix(
      ['name: prov', 'app: {command: [demo-server], files: ["@tools/demo-server"]}', 'axes: {backend: [qemu, local], vcpus: [1, 2]}', ''].join('\n'),
      join(projectRoot(), 'matrices', 'prov.yaml'),
    );
    const provenance = await collectProvenance(expandMatrix(matrix).cells);
    const image = await ensureDefaultImage();
    const byRole = Object.fromEntries(provenance.files.map((f) => [f.role, f]));
    expect(byRole.kernel).toMatchObject({ path: image.kernel, sha256: sha(image.kernel), cells: 2 });
    expect(byRole.initramfs).toMatchObject({ path: image.initrd, sha256: sha(image.initrd), cells: 2 });
    expect(byRole.payload!.path).toMatch(/demo-server$/);
    expect(byRole.payload).toMatchObject({ sha256: sha(byRole.payload!.path), cells: 4 });
    expect(provenance.harness.commit).toMatch(/^[0-9a-f]{40}$/);
  });
});
