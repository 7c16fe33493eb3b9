import { homedir } from 'node:os';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The environment a program the matrix names (the application, its health check, a load generator)
 * gets on this host: PATH, HOME and LANG, then what the caller adds (app.env, BW_*). Never the
 * harness's own environment, which holds tokens and passphrases (GITHUB_TOKEN,
 * BOTHWORLDS_SSH_KEY_PASSPHRASE...) the application could print into the reports. docs/security.md.
 */
export function applicationEnvironment(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH || DEFAULT_PATH, HOME: homedir(), LANG: 'C.UTF-8', ...extra };
}
