import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { buildBundle, type CertifyOptions } from '../../certify/bundle.js';
import { sha256 } from '../../certify/bundle.js';
import { RESULTS_FILE } from '../../report/results-store.js';
import { ConfigError } from '../../core/errors.js';
import { EXIT } from '../exit-codes.js';
import { folderFlag } from '../flags.js';
import { parseCommand, usageLine } from '../command-spec.js';
import { SPECS } from '../specs.js';

/** Write the bundle of a run folder and say what it holds (stderr) and where it is (stdout). */
export async function certifyTo(runDir: string, out: string, options: CertifyOptions): Promise<void> {
  const bundle = await buildBundle(resolve(runDir), options);
  await writeFile(resolve(out), bundle.bytes);
  const signed = [options.sshKey ? 'ssh-keygen' : '', options.gpgKey ? 'GnuPG' : ''].filter(Boolean).join(' and ') || 'nobody (unsigned)';
  process.stderr.write(`certified: ${bundle.files} files, verdict ${bundle.qualification?.verdict ?? 'none (no policy)'}, signed by ${signed}; sha256 ${sha256(bundle.bytes)}\n`);
  process.stdout.write(`${out}\n`);
}

export async function certifyCommand(args: string[]): Promise<number> {
  const parsed = parseCommand(SPECS.certify, args);
  if (!parsed) return EXIT.ok;
  const { values, positionals } = parsed;
  if (positionals.length !== 1 || values.out === undefined) {
    process.stderr.write(`${usageLine(SPECS.certify)}\n`);
    return EXIT.usage;
  }
  const dir = folderFlag('RUN_DIR', positionals[0]!, RESULTS_FILE);
  if (values.key === undefined && values['gpg-key'] === undefined && !values.unsigned) throw new ConfigError('CLI_OPTION', 'certify needs --key FILE (an OpenSSH key) or --gpg-key ID to sign the bundle (or --unsigned)');
  await certifyTo(dir, values.out, {
    ...(values.key !== undefined ? { sshKey: values.key } : {}),
    ...(values['gpg-key'] !== undefined ? { gpgKey: values['gpg-key'] } : {}),
    ...(values.policy !== undefined ? { policyFile: values.policy } : {}),
  });
  return EXIT.ok;
}
