import { execa } from 'execa';
import { currentUid } from '../../core/private-dir.js';
import { ownerAlive, ownerToken } from '../../core/temp-dir.js';

export const OWNER_LABEL = 'dev.bothworlds.owner';
export const UID_LABEL = 'dev.bothworlds.uid';

/** Labels that name the harness owning a container (its lock) and its uid. */
export function ownerLabels(): Record<string, string> {
  return { [OWNER_LABEL]: ownerToken(), [UID_LABEL]: String(currentUid()) };
}

/**
 * Remove containers whose owning harness is gone (SIGKILLed; the testcontainers reaper is off here,
 * its image cannot be pulled). Only containers with this uid's label are considered: the Docker
 * engine may be shared. Returns the ids removed; nothing when no engine answers.
 */
export async function sweepOrphanContainers(): Promise<string[]> {
  const list = await execa('docker', ['ps', '-a', '--no-trunc', '--filter', `label=${OWNER_LABEL}`, '--filter', `label=${UID_LABEL}=${currentUid()}`, '--format', `{{.ID}} {{.Label "${OWNER_LABEL}"}}`], { reject: false, timeout: 10_000 });
  if (list.exitCode !== 0) return [];
  const removed: string[] = [];
  for (const line of String(list.stdout).split('\n').filter(Boolean)) {
    const [id, token] = [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)];
    if (!id || !token || (await ownerAlive(token))) continue;
    const rm = await execa('docker', ['rm', '-f', id], { reject: false, timeout: 30_000 });
    if (rm.exitCode === 0) removed.push(id);
  }
  return removed;
}
