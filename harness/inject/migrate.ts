import type { MigrationOptions } from '../machines/machine.js';
import type { EventKind } from './kind.js';
import { EventParams } from './params.js';

/** Live-migrate the running guest; knobs from the matrix: max-bandwidth, downtime-limit, auto-converge, xbzrle, multifd, postcopy, timeout, transport. */
export const migrate: EventKind = {
  kind: 'migrate',
  facet: 'migrate',
  describe: 'live-migrate to another QEMU (same host) and measure downtime',
  async run({ machine, params }) {
    const p = new EventParams('migrate', params);
    const bandwidth = p.bytes('max-bandwidth');
    const options: MigrationOptions = {
      ...(bandwidth !== undefined ? { maxBandwidthBytesPerSec: bandwidth } : {}),
      ...(p.has('downtime-limit') ? { downtimeLimitMs: p.durationMs('downtime-limit', 300) } : {}),
      autoConverge: p.bool('auto-converge', false),
      xbzrle: p.bool('xbzrle', false),
      multifd: p.int('multifd', 0),
      postcopy: p.bool('postcopy', false),
      timeoutMs: p.durationMs('timeout', 60_000),
      transport: params.transport === 'tcp' ? 'tcp' : 'unix',
    };
    const report = await machine.controls.migrate!.migrate(options);
    if (report.status !== 'completed') {
      return {
        acknowledgedAt: report.acknowledgedAt,
        metrics: report.metrics,
        series: report.series,
        ...(report.detail ? { detail: report.detail } : {}),
        error: {
          code: 'MIGRATION_NOT_CONVERGED',
          message: `migration did not converge within ${options.timeoutMs} ms and was cancelled (dirty rate ${Math.round((report.metrics.dirty_rate_bytes_per_s?.value ?? 0) / 2 ** 20)} MiB/s, expected downtime ${report.metrics.expected_downtime_ms?.value ?? '?'} ms); the source kept running`,
        },
      };
    }
    await machine.exec(['true'], { timeoutMs: 30_000 });
    return { acknowledgedAt: report.acknowledgedAt, observedAt: performance.now(), metrics: report.metrics, series: report.series, ...(report.detail ? { detail: report.detail } : {}) };
  },
};
