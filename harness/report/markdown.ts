import type { RunRecord } from './run-record.js';
import { OUTCOMES, countOutcomes, metricValue } from './summary.js';

/** A Markdown summary for CI step summaries ($GITHUB_STEP_SUMMARY): totals, what did not pass and why, key timings. */
export function buildMarkdown(record: RunRecord): string {
  const counts = countOutcomes(record.cells);
  const lines = [`# bothworlds: ${record.matrix.name}`, ''];
  lines.push(`${record.cells.length} cells — ${OUTCOMES.filter((o) => counts[o] > 0).map((o) => `**${counts[o]} ${o}**`).join(', ')}${record.interrupted ? ' (run interrupted)' : ''}`, '');
  lines.push(`Host: ${record.environment.hostCpuModel}, ${record.environment.cores} cores; ${record.environment.qemuVersion ?? 'no QEMU'}; accelerator: ${record.environment.kvm.usable ? 'KVM' : 'TCG'} (${record.environment.kvm.reason})`, '');
  const notPassed = record.cells.filter((c) => c.outcome !== 'passed');
  if (notPassed.length > 0) {
    lines.push('| cell | outcome | reason |', '|---|---|---|');
    for (const cell of notPassed) lines.push(`| \`${cell.id}\` | ${cell.outcome} | ${escapeCell(cell.reason ?? '')} |`);
    lines.push('');
  }
  lines.push('| cell | boot | app | migration downtime (QEMU / heartbeat) |', '|---|---|---|---|');
  for (const cell of record.cells) {
    const boot = metricValue(cell.metrics.boot_ms);
    const app = metricValue(cell.metrics.app_ms);
    const migration = cell.events.find((e) => e.kind === 'migrate' && e.outcome === 'ok');
    const downtime = migration ? `${metricValue(migration.metrics.downtime_qemu_ms)} / ${metricValue(migration.metrics.downtime_heartbeat_ms)}` : '';
    lines.push(`| \`${cell.id}\` | ${boot} | ${app} | ${downtime} |`);
  }
  return `${lines.join('\n')}\n`;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
