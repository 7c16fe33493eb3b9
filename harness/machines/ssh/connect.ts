import { readFile } from 'node:fs/promises';
import { Client, type ConnectConfig } from 'ssh2';
import { ConfigError, InfrastructureError } from '../../core/errors.js';
import type { HostRef } from '../../model/cell.js';
import { DEFAULT_KNOWN_HOSTS, readKnownHosts, verifyHostKey, type HostKeyVerdict } from './known-hosts.js';

/** Environment variable holding the passphrase of encrypted key files. */
export const PASSPHRASE_ENV = 'BOTHWORLDS_SSH_KEY_PASSPHRASE';

export interface SshConnectOptions {
  timeoutMs?: number;
}

/** What to call a host in messages: never more than user@address:port. */
export function hostLabel(host: HostRef): string {
  return `${host.name} (${host.user}@${host.address}:${host.port})`;
}

/**
 * Connect and authenticate with a key file or the agent, verifying the host key against
 * known_hosts unless the host opts out with `knownHosts: false`. Errors name the host and the
 * cause, never a key's contents.
 */
export async function openSshConnection(host: HostRef, options: SshConnectOptions = {}): Promise<Client> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const config: ConnectConfig = { host: host.address, port: host.port, username: host.user, readyTimeout: timeoutMs, keepaliveInterval: 5_000, keepaliveCountMax: 3 };
  if (host.keyPath) {
    try {
      config.privateKey = await readFile(host.keyPath);
      // An encrypted key's passphrase comes from the environment, never from the matrix file.
      const passphrase = process.env[PASSPHRASE_ENV];
      if (passphrase) config.passphrase = passphrase;
    } catch (error) {
      throw new ConfigError('SSH_KEY', `cannot read the SSH key file of ${hostLabel(host)} at ${host.keyPath}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  if (host.useAgent || !host.keyPath) {
    if (!process.env.SSH_AUTH_SOCK && !host.keyPath) throw new ConfigError('SSH_AUTH', `${hostLabel(host)} has no key file and SSH_AUTH_SOCK is not set: give \`key\` or start an agent`);
    if (process.env.SSH_AUTH_SOCK) config.agent = process.env.SSH_AUTH_SOCK;
  }
  let verdict: HostKeyVerdict | undefined;
  if (host.knownHosts !== false) {
    const path = host.knownHosts ?? DEFAULT_KNOWN_HOSTS;
    const entries = readKnownHosts(path);
    config.hostVerifier = (key: Buffer): boolean => {
      verdict = verifyHostKey(entries, host.address, host.port, key);
      return verdict.ok;
    };
  }

  const client = new Client();
  return new Promise<Client>((resolve, reject) => {
    client.once('ready', () => {
      client.removeAllListeners('error');
      resolve(client);
    });
    client.once('error', (error: Error & { level?: string; code?: string }) => {
      client.end();
      reject(classify(host, error, verdict));
    });
    try {
      client.connect(config);
    } catch (error) {
      // Key parsing errors are thrown synchronously; their messages do not contain the key.
      const reason = /encrypted/i.test((error as Error).message) && !process.env[PASSPHRASE_ENV] ? `it is encrypted: set ${PASSPHRASE_ENV}` : redact((error as Error).message);
      reject(new ConfigError('SSH_KEY', `the SSH key of ${hostLabel(host)} (${host.keyPath}) cannot be used: ${reason}`));
    }
  });
}

/** Belt and braces: no message may carry the passphrase, whatever a library puts in it. */
function redact(text: string): string {
  const passphrase = process.env[PASSPHRASE_ENV];
  return passphrase ? text.split(passphrase).join('***') : text;
}

function classify(host: HostRef, error: Error & { level?: string; code?: string }, verdict: HostKeyVerdict | undefined): Error {
  if (verdict && !verdict.ok) {
    const known = verdict.knownFingerprints.length ? `; known_hosts has ${verdict.knownFingerprints.join(', ')}` : '';
    const what = verdict.reason === 'unknown' ? 'is not in known_hosts' : verdict.reason === 'revoked' ? 'is revoked in known_hosts' : 'does not match known_hosts';
    return new InfrastructureError('SSH_HOST_KEY', `host key of ${hostLabel(host)} ${what}: the server offered ${verdict.fingerprint}${known} (add it with ssh-keyscan, or set known_hosts: false to skip verification)`, {
      details: { fingerprint: verdict.fingerprint, reason: verdict.reason },
    });
  }
  if (error.level === 'client-authentication') {
    return new InfrastructureError('SSH_AUTH', `${hostLabel(host)} refused our key${host.useAgent ? 's (agent)' : ''}: ${redact(error.message)}`);
  }
  return new InfrastructureError('SSH_CONNECT', `cannot connect to ${hostLabel(host)}: ${error.code ?? error.level ?? ''} ${redact(error.message)}`.replace(/\s+/g, ' '), { cause: error });
}

/** Alias kept for harness/machines/ssh/machine.ts, which was written against this name. */
export const connectSsh = openSshConnection;
