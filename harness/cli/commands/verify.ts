import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { verifyBundle } from '../../certify/verify-bundle.js';
import { ConfigError } from '../../core/errors.js';
import { qualificationLines } from '../../report/qualification-text.js';
import { EXIT } from '../exit-codes.js';
import { parseCommand, usageLine } from '../command-spec.js';
import { SPECS } from '../specs.js';

/** Exit 0 when the bundle holds (signature, every hash, a verdict that follows), 1 when anything does not match. */
export async function verifyCommand(args: string[]): Promise<number> {
  const parsed = parseCommand(SPECS.verify, args);
  if (!parsed) return EXIT.ok;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) {
    process.stderr.write(`${usageLine(SPECS.verify)}\n`);
    return EXIT.usage;
  }
  if (values['allowed-signers'] === undefined && !values.gpg) throw new ConfigError('CLI_OPTION', 'verify needs --allowed-signers FILE (or --gpg): an unchecked signature proves nothing');
  let bytes: Buffer;
  try {
    bytes = await readFile(resolve(positionals[0]!));
  } catch (cause) {
    throw new ConfigError('CLI_OPTION', `cannot read ${positionals[0]}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, { cause });
  }
  const result = await verifyBundle(bytes, { ...(values['allowed-signers'] !== undefined ? { allowedSigners: resolve(values['allowed-signers']) } : {}), gpg: values.gpg === true });
  if (values.json) process.stdout.write(`${JSON.stringify({ ok: result.problems.length === 0, ...result })}\n`);
  else {
    for (const problem of result.problems) process.stdout.write(`MISMATCH ${problem}\n`);
    if (result.problems.length === 0) {
      process.stdout.write(`OK: ${result.files} files match the manifest, signed by ${result.signer}; the verdict follows from results.jsonl and the policy\n`);
      if (result.qualification) process.stdout.write(`${qualificationLines(result.qualification).join('\n')}\n`);
    }
  }
  return result.problems.length === 0 ? EXIT.ok : EXIT.failed;
}
