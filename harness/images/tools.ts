import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { InfrastructureError } from '../core/errors.js';
import { cacheDir } from '../core/cache-dir.js';
import { projectRoot } from '../core/project-root.js';
import { buildAtomically } from './atomic-dir.js';
import { combineHashes, FileHashMemo } from './hash.js';

/** Host paths of bothworlds' static helper programs (also inside the default guest at /opt/bothworlds/bin). */
export interface GuestTools {
  heartbeat: string;
  perfProbe: string;
  dirtyMem: string;
  /** The memory-integrity suite's pattern writer and checker. */
  memIntegrity: string;
  demoServer: string;
}

const TOOL_SOURCES: Record<keyof GuestTools, { source: string; binary: string; pthread?: boolean }> = {
  heartbeat: { source: 'guest/tools/bw-heartbeat.c', binary: 'bw-heartbeat' },
  perfProbe: { source: 'guest/tools/bw-perf-probe.c', binary: 'bw-perf-probe' },
  dirtyMem: { source: 'guest/tools/bw-dirty-mem.c', binary: 'bw-dirty-mem' },
  memIntegrity: { source: 'guest/tools/bw-mem-integrity.c', binary: 'bw-mem-integrity' },
  demoServer: { source: 'examples/demo-server/demo-server.c', binary: 'demo-server', pthread: true },
};

const STATIC_LIBC = '/usr/lib/x86_64-linux-gnu/libc.a';
const inProcess = new Map<string, Promise<GuestTools>>();

/** Build the static tools with gcc once per source hash; later calls return the cached paths. */
export function ensureTools(options: { cacheDir?: string } = {}): Promise<GuestTools> {
  const root = options.cacheDir ?? cacheDir();
  let pending = inProcess.get(root);
  if (!pending) {
    pending = buildTools(root);
    pending.catch(() => inProcess.delete(root));
    inProcess.set(root, pending);
  }
  return pending;
}

async function buildTools(root: string): Promise<GuestTools> {
  const project = projectRoot();
  const compiler = await execa('gcc', ['--version'], { reject: false });
  if (compiler.exitCode !== 0) {
    throw new InfrastructureError('TOOLS_BUILD', 'gcc is not installed: run scripts/setup.sh (it installs gcc and libc6-dev)');
  }
  const parts: Record<string, string> = { compiler: compiler.stdout.split('\n')[0] ?? '', builder: '1' };
  const memo = new FileHashMemo(join(root, 'file-hashes.json'));
  for (const [name, tool] of Object.entries(TOOL_SOURCES)) parts[name] = await memo.hash(join(project, tool.source));
  // Static binaries embed libc: a libc6-dev update must rebuild them.
  if (existsSync(STATIC_LIBC)) parts.libc = await memo.hash(STATIC_LIBC);
  memo.save();
  const dir = join(root, 'tools', combineHashes(parts).slice(0, 16));
  await buildAtomically(dir, async (temp) => {
    for (const tool of Object.values(TOOL_SOURCES)) {
      const result = await execa(
        'gcc',
        ['-O2', '-Wall', '-static', ...(tool.pthread ? ['-pthread'] : []), '-o', join(temp, tool.binary), join(project, tool.source)],
        { reject: false },
      );
      if (result.exitCode !== 0) {
        throw new InfrastructureError('TOOLS_BUILD', `building ${tool.binary} failed: ${result.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      }
    }
  });
  return Object.fromEntries(Object.entries(TOOL_SOURCES).map(([name, tool]) => [name, join(dir, tool.binary)])) as unknown as GuestTools;
}
