import type { Qualification } from '../model/qualification.js';

/** The policy's verdict as lines for a person: the verdict, every reason, then what held. */
export function qualificationLines(q: Qualification): string[] {
  const head = `${q.verdict === 'qualified' ? 'QUALIFIED' : 'NOT QUALIFIED'} under policy ${q.policy.file}${q.policy.inline ? ' (policy:)' : ''} (sha256 ${q.policy.sha256.slice(0, 12)}…, as of ${q.asOf})`;
  return [head, ...q.reasons.map((r) => `- ${r.message}`), ...q.notes.map((n) => `- note: ${n}`)];
}
