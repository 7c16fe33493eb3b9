import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { pollUntil } from '../harness/core/deadline.js';
import { OTHER_UID, asOtherUser, bothworlds, localMatrix, sharedTmp, stopGroup } from './shared-host-helpers.js';

/** Payload dirs of local cells under a temp space, whatever a harness version names its root. */
function payloadScripts(base: string): string[] {
  return readdirSync(base)
    .filter((e) => e.startsWith('bothworlds-'))
    .flatMap((root) => {
      try {
        return readdirSync(join(base, root)).filter((e) => e.startsWith('local-')).map((d) => join(base, root, d, 'app.sh'));
      } catch {
        return [];
      }
    })
    .filter((f) => existsSync(f));
}

/**
 * Issue 13, problems 1–3, played by another local user (uid 1000 through setpriv) against real
 * runs of the CLI as root, in a shared 1777 temp space like /tmp.
 */
describe('a shared host: another local user against a root run', () => {
  it('1: pre-created temp roots for upcoming pids do not make root run that user\'s code', async () => {
    const tmp = sharedTmp();
    const ws = localMatrix(1);
    // Plant 0777 roots for the next 3000 pids, then swap any payload dir that appears under them.
    const attacker = asOtherUser(
      `base=$1
last=$(cat /proc/sys/kernel/ns_last_pid)
seq $((last + 1)) $((last + 3000)) | sed "s|^|$base/bothworlds-|" | xargs mkdir -m 0777
printf '#!/bin/sh\\necho "attacker code ran as $(id -u)"\\ntouch %s/pwned-$(id -u)\\n' "$base" > "$base/evil.sh"
echo planted
while :; do
  for d in "$base"/*/local-*; do
    case $d in *.gone) continue ;; esac
    if [ ! -O "$d" ] && mv "$d" "$d.gone" 2>/dev/null; then mkdir -m 0777 "$d" && echo "swapped $d"; fi
    if [ -O "$d" ] && [ -f "$d/app.sh" ] && [ ! -O "$d/app.sh" ]; then rm -f "$d/app.sh"; cp "$base/evil.sh" "$d/app.sh"; chmod 755 "$d/app.sh"; fi
  done
  sleep 0.01
done`,
      [tmp.dir],
    );
    try {
      await pollUntil(async () => existsSync(join(tmp.dir, 'evil.sh')), Boolean, { timeoutMs: 20_000, intervalMs: 20, what: 'the other user to plant its roots' });
      const run = await bothworlds(['run', ws.file, '--reports', ws.reports, '--plain'], tmp.dir);
      stopGroup(attacker);
      const said = (await attacker).all;
      expect(readdirSync(tmp.dir).filter((e) => e.startsWith('pwned-')), run.all).toEqual([]);
      expect(said, 'the other user could swap a payload dir').not.toContain('swapped');
      expect(run.exitCode, run.all).toBe(0);
      // The harness never entered a root it did not create, and left nothing of its own behind.
      const left = readdirSync(tmp.dir).filter((e) => e.startsWith('bothworlds-run-'));
      expect(left).toEqual([]);
    } finally {
      stopGroup(attacker);
      await attacker;
      tmp.cleanup();
      ws.cleanup();
    }
  });

  it('2: the sweep never removes another user\'s tree nor follows a link swapped in mid-delete', async () => {
    const tmp = sharedTmp();
    const ws = localMatrix(0);
    const victimParent = mkdtempSync('/tmp/bw-victim-');
    const victim = join(victimParent, 'root-owned');
    mkdirSync(victim);
    writeFileSync(join(victim, 'precious'), 'root data\n');
    for (let i = 0; i < 20; i++) writeFileSync(join(victim, `file-${i}`), 'root data\n');
    // Roots named as a dead harness's (old and new naming), each with subdirs that keep being swapped for links to the victim.
    const attacker = asOtherUser(
      `base=$1 victim=$2
for root in "$base/bothworlds-4190001" "$base/bothworlds-run-Zz9Zz9"; do
  mkdir -p "$root" && chmod 700 "$root" && ln -s "$victim" "$root/link"
  for i in 1 2 3 4 5 6 7 8; do mkdir -p "$root/sub$i/deep" && touch "$root/sub$i/deep/f" "$root/sub$i/f"; done
done
echo planted
while :; do
  for root in "$base/bothworlds-4190001" "$base/bothworlds-run-Zz9Zz9"; do
    for i in 1 2 3 4 5 6 7 8; do
      mkdir -p "$root/sub$i" 2>/dev/null; mv "$root/sub$i" "$root/x$i" 2>/dev/null && ln -s "$victim" "$root/sub$i" 2>/dev/null; rm -f "$root/sub$i" 2>/dev/null; mv "$root/x$i" "$root/sub$i" 2>/dev/null
    done
  done
done`,
      [tmp.dir, victim],
    );
    try {
      await pollUntil(async () => existsSync(join(tmp.dir, 'bothworlds-run-Zz9Zz9', 'sub8', 'f')), Boolean, { timeoutMs: 20_000, intervalMs: 20, what: 'the other user to prepare its trees' });
      // Every command sweeps (list too); a few in a row give the race many chances.
      for (let i = 0; i < 4; i++) {
        const list = await bothworlds(['list', ws.file], tmp.dir);
        expect(list.exitCode, list.all).toBe(0);
      }
      stopGroup(attacker);
      await attacker;
      expect(readdirSync(victim).length).toBe(21);
      expect(existsSync(join(tmp.dir, 'bothworlds-4190001', 'link'))).toBe(true);
      expect(existsSync(join(tmp.dir, 'bothworlds-run-Zz9Zz9', 'link'))).toBe(true);
    } finally {
      stopGroup(attacker);
      await attacker;
      tmp.cleanup();
      ws.cleanup();
      rmSync(victimParent, { recursive: true, force: true });
    }
  });

  it('3: a command started in another PID namespace leaves a live run\'s temp dir alone', async () => {
    const tmp = sharedTmp();
    const ws = localMatrix(4);
    try {
      const run = bothworlds(['run', ws.file, '--reports', ws.reports, '--plain'], tmp.dir);
      await pollUntil(async () => payloadScripts(tmp.dir), (found) => found.length > 0, { timeoutMs: 30_000, intervalMs: 20, what: 'the live run\'s payload dir' });
      const list = await bothworlds(['list', ws.file], tmp.dir, { prefix: ['unshare', '-p', '-f', '--mount-proc'] });
      expect(list.exitCode, list.all).toBe(0);
      expect(payloadScripts(tmp.dir)).toHaveLength(1);
      const done = await run;
      expect(done.exitCode, done.all).toBe(0);
      expect(done.all).not.toContain('removed');
    } finally {
      tmp.cleanup();
      ws.cleanup();
    }
  });
});

describe('the other user exists', () => {
  it(`uid ${OTHER_UID} can run commands through setpriv`, async () => {
    const who = await execa('setpriv', [`--reuid=${OTHER_UID}`, `--regid=${OTHER_UID}`, '--clear-groups', 'id', '-u'], { reject: false });
    expect(who.stdout.trim()).toBe(String(OTHER_UID));
  });
});
