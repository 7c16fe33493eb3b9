import { dirname } from 'node:path';
import { ensureDefaultImage } from './default-image.js';
import { ensureTools } from './tools.js';
import { describeError } from '../core/errors.js';

/** Run by scripts/setup.sh: build (or find cached) the default guest image and the tools. */
try {
  const started = performance.now();
  const tools = await ensureTools();
  const image = await ensureDefaultImage({ log: (line) => process.stdout.write(`  ${line}\n`) });
  process.stdout.write(`  guest image ${image.hash.slice(0, 16)} (kernel ${image.kernelRelease}) ready in ${((performance.now() - started) / 1000).toFixed(2)} s\n`);
  process.stdout.write(`    kernel ${image.kernel}\n    initrd ${image.initrd}\n    append ${image.append}\n`);
  process.stdout.write(`  guest tools in ${dirname(tools.heartbeat)} (demo server: ${tools.demoServer})\n`);
} catch (error) {
  process.stderr.write(`preparing the guest image failed: ${describeError(error)}\n`);
  process.exit(1);
}
