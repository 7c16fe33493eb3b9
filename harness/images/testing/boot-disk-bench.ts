import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { DEFAULT_MACHINE, type MachineSpec } from '../../model/machine-spec.js';
import { ResourceScope } from '../../core/scope.js';
import { probeKvm } from '../../machines/qemu/accel.js';
import { startQemuMachine } from '../../machines/qemu/machine.js';
import { ensureDefaultImage } from '../default-image.js';
import { ensureBootDisk } from './boot-disk.js';

/**
 * What the test boot disk costs: its cold build (into a private cache folder, so nothing shared is
 * removed; the default image it copies is built there first, untimed), a cached lookup, and its boot
 * to a working agent against the default guest's (-kernel through PVH), taking turns, medians of 3.
 * `npx tsc -p tsconfig.json && node dist/harness/images/testing/boot-disk-bench.js`
 */
const RUNS = 3;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

const coldCache = mkdtempSync(join(tmpdir(), 'bw-bench-boot-disk-'));
const scope = new ResourceScope('bench-boot-disk');
try {
  await ensureDefaultImage({ cacheDir: coldCache });
  const built = await ensureBootDisk({ cacheDir: coldCache });
  rmSync(coldCache, { recursive: true, force: true });
  const disk = await ensureBootDisk();
  // What a test pays in a fresh process (in this one the lookup is memoised).
  const lookupMs = await freshLookupMs();
  console.log(`build (cold, private cache): ${seconds(built.buildMs)}; cached lookup in a fresh process: ${lookupMs.toFixed(0)} ms`);
  const kvm = await probeKvm(await ensureDefaultImage());
  const specs: Record<'disk' | 'default', MachineSpec> = { disk: { ...DEFAULT_MACHINE, image: { kind: 'disk', path: disk.path } }, default: DEFAULT_MACHINE };
  const boots: Record<'disk' | 'default', number[]> = { disk: [], default: [] };
  const loaderMs: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    for (const kind of ['disk', 'default'] as const) {
      const machine = await startQemuMachine(specs[kind], { scope, kvm, name: `bench-boot-disk-${kind}-${run}` });
      boots[kind].push(machine.startMetrics.boot_ms!.value);
      if (kind === 'disk') {
        // From syslinux's banner to the guest's init: the bootloader reading the kernel and initramfs through the BIOS, then the kernel.
        const at = (pattern: RegExp): number | undefined => machine.output.lines.find((l) => pattern.test(l.text))?.t;
        const banner = at(/^SYSLINUX /);
        const init = at(/bothworlds: init started/);
        if (banner !== undefined && init !== undefined) loaderMs.push(init - banner);
      }
      await machine.stop();
    }
  }
  console.log(`accelerator: ${kvm.usable ? 'kvm' : 'tcg'}; boot to a working agent, median of ${RUNS}:`);
  console.log(`  user disk (SeaBIOS, MBR, syslinux, bzImage): ${seconds(median(boots.disk))} (${boots.disk.map(seconds).join(', ')}); syslinux banner to init ${seconds(median(loaderMs))}`);
  console.log(`  default guest (-kernel vmlinux, PVH):        ${seconds(median(boots.default))} (${boots.default.map(seconds).join(', ')})`);
  console.log(`  ratio ${(median(boots.disk) / median(boots.default)).toFixed(2)}x`);
} finally {
  await scope.dispose();
  rmSync(coldCache, { recursive: true, force: true });
}

async function freshLookupMs(): Promise<number> {
  const module = JSON.stringify(new URL('./boot-disk.js', import.meta.url).href);
  const result = await execa(process.execPath, ['--input-type=module', '-e', `const { ensureBootDisk } = await import(${module}); const t = performance.now(); await ensureBootDisk(); console.log(performance.now() - t);`]);
  return Number(result.stdout.trim());
}
