import { appendFileSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { InfrastructureError } from '../../../core/errors.js';
import { pollUntil } from '../../../core/deadline.js';
import type { HostRef } from '../../../model/cell.js';
import type { ResourceScope } from '../../../core/scope.js';
import { spawnLocal } from '../../local/local-process.js';

export interface TestSshd {
  port: number;
  /** A HostRef for root@127.0.0.1:port with the client key and a known_hosts holding the real host key. */
  host: HostRef;
  dir: string;
  hostPublicKey: string;
  /** Generate another ed25519 key pair (e.g. a wrong host key); returns the public key line. */
  otherPublicKey(name: string): Promise<string>;
  /** Let another public key log in. */
  authorize(publicKeyLine: string): void;
  log(): string;
}

/** A free TCP port on 127.0.0.1 (closed again before returning, so it may race; fine for tests). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function keygen(path: string): Promise<string> {
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bothworlds-test', '-f', path]);
  return readFileSync(`${path}.pub`, 'utf8').trim();
}

function sshBanner(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(1_000, () => socket.destroy(new Error('no banner')));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString());
    });
    socket.once('error', reject);
  });
}

/**
 * A real OpenSSH server on 127.0.0.1 for tests: generated host and client keys in a temp dir,
 * its own config, registered in the scope (killed and removed at dispose).
 */
export async function startTestSshd(scope: ResourceScope): Promise<TestSshd> {
  const dir = mkdtempSync(join(tmpdir(), 'bothworlds-sshd-'));
  scope.registerTempDir(dir);
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  mkdirSync(join(dir, 'home'), { mode: 0o700 });
  const hostPublicKey = await keygen(join(dir, 'host_ed25519'));
  const clientPublicKey = await keygen(join(dir, 'client_ed25519'));
  writeFileSync(join(dir, 'authorized_keys'), `${clientPublicKey}\n`, { mode: 0o600 });
  const port = await freePort();
  const [, keyType, keyBase64] = /^(\S+) (\S+)/.exec(hostPublicKey) ? ['', ...hostPublicKey.split(' ')] : [];
  writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${keyType} ${keyBase64}\n`);
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_ed25519')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PidFile none',
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'Subsystem sftp internal-sftp',
      // Root's real ~/.bashrc here runs `pyenv init` (~1.3 s under load), and bash sources it for
      // every sshd session: give sessions an empty home so the test measures SSH, not pyenv.
      `SetEnv HOME=${join(dir, 'home')}`,
      'LogLevel VERBOSE',
    ].join('\n') + '\n',
  );
  let log = '';
  const sshd = await spawnLocal(['/usr/sbin/sshd', '-D', '-e', '-f', join(dir, 'sshd_config')], {
    onData: (_stream, chunk) => (log = (log + chunk.toString()).slice(-20_000)),
  });
  scope.register({ name: `test sshd on port ${port}`, kind: 'process', dispose: () => sshd.kill('TERM'), disposeSync: () => sshd.killSync() });
  try {
    await pollUntil(() => sshBanner(port), (banner) => banner.startsWith('SSH-2.0'), { timeoutMs: 10_000, intervalMs: 20, what: `sshd to accept on port ${port}` });
  } catch (error) {
    throw new InfrastructureError('TEST_SSHD', `test sshd did not start: ${log.trim().split('\n').slice(-3).join(' | ')}`, { cause: error });
  }
  return {
    port,
    dir,
    hostPublicKey,
    host: { name: 'test-sshd', address: '127.0.0.1', port, user: 'root', keyPath: join(dir, 'client_ed25519'), knownHosts: join(dir, 'known_hosts'), labels: ['test'], slots: 1 },
    otherPublicKey: (name) => keygen(join(dir, name)),
    authorize: (line) => appendFileSync(join(dir, 'authorized_keys'), `${line}\n`),
    log: () => log,
  };
}
