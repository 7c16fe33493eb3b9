import type { MigrationOptions } from '../machines/machine.js';
import { defineEvent } from './kind.js';
import { EventParams } from './params.js';

const PARAMS = ['max-bandwidth', 'downtime-limit', 'auto-converge', 'xbzrle', 'multifd', 'postcopy', 'timeout', 'transport'] as const;

/** Live-migrate the running guest; knobs from the matrix: max-bandwidth, downtime-limit, auto-converge, xbzrle, multifd, postcopy, timeout, transport. */
export const migrate = defineEvent<MigrationOptions & { timeoutMs: number }>({
  kind: 'migrate',
  facet: 'migrate',
  describe: 'live-migrate to another QEMU (same host) and measure downtime',
  validate(params) {
    const p = new EventParams('migrate', params, PARAMS);
    const bandwidth = p.bytes('max-bandwidth');
    return {
      ...(bandwidth !== undefined ? { maxBandwidthBytesPerSec: bandwidth } : {}),
      ...(p.has('downtime-limit') ? { downtimeLimitMs: p.durationMs('downtime-limit', 300, { max: 2_000_000 }) } : {}),
      autoConverge: p.bool('auto-converge', false),
      xbzrle: p.bool('xbzrle', false),
      // QEMU's limits: downtime-limit ≤ 2000 s, multifd-channels ≤ 255.
      multifd: p.int('multifd', 0, 255),
      postcopy: p.bool('postcopy', false),
      timeoutMs: p.timeoutMs('timeout', 60_000),
      transport: p.oneOf<'unix' | 'tcp'>('transport', ['unix', 'tcp'], 'unix'),
    };
  },
  async apply({ machine, params: options }) {
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
    // Observed: the guest answers on the destination.
    await machine.exec(['true'], { timeoutMs: 30_000 });
    return { acknowledgedAt: report.acknowledgedAt, observedAt: performance.now(), metrics: report.metrics, series: report.series, ...(report.detail ? { detail: report.detail } : {}) };
  },
});
