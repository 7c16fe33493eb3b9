import { access, mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { withDeadline } from '../core/deadline.js';
import { InfrastructureError, UnsupportedError } from '../core/errors.js';
import type { ResourceScope } from '../core/scope.js';

export const CHROMIUM = process.env.BOTHWORLDS_CHROMIUM ?? '/usr/bin/chromium';

export interface ScreenshotOptions {
  scope: ResourceScope;
  width?: number;
  height?: number;
  timeoutMs?: number;
}

/**
 * A PNG of a report page through headless Chromium: what a person sees, for CI artifacts and for
 * checking the page renders. Network, sync and updates are off, so a report that tried to load
 * anything from outside would render without it.
 */
export async function screenshotPage(htmlFile: string, pngFile: string, options: ScreenshotOptions): Promise<{ bytes: number }> {
  try {
    await access(CHROMIUM);
  } catch (cause) {
    throw new UnsupportedError('CHROMIUM_MISSING', `${CHROMIUM} not found: install Debian's chromium (scripts/packages/report.txt) or set BOTHWORLDS_CHROMIUM`, { cause });
  }
  const profile = await mkdtemp(join(tmpdir(), 'bw-chromium-'));
  const profileHandle = options.scope.registerTempDir(profile);
  const argv = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--hide-scrollbars',
    `--user-data-dir=${profile}`,
    `--screenshot=${pngFile}`,
    `--window-size=${options.width ?? 1280},${options.height ?? 900}`,
    pathToFileURL(htmlFile).href,
  ];
  const child = execa(CHROMIUM, argv, { reject: false, all: true, forceKillAfterDelay: 2000 });
  const handle = options.scope.register({
    name: `chromium ${pngFile}`,
    kind: 'process',
    dispose: async () => {
      child.kill('SIGKILL');
      await child.catch(() => undefined);
    },
    disposeSync: () => child.kill('SIGKILL'),
  });
  const timeoutMs = options.timeoutMs ?? 60_000;
  try {
    const result = await withDeadline(child, timeoutMs, `chromium screenshot of ${htmlFile}`);
    const png = await stat(pngFile).catch(() => undefined);
    if (!png || png.size === 0) {
      throw new InfrastructureError('SCREENSHOT_FAILED', `chromium exited ${result.exitCode ?? result.signal} without writing ${pngFile}: ${String(result.all ?? '').slice(-2000)}`, { details: { argv } });
    }
    return { bytes: png.size };
  } finally {
    await handle.dispose();
    await profileHandle.dispose();
  }
}
