import { execa } from 'execa';
import { InfrastructureError } from '../core/errors.js';

/**
 * Validate a written junit.xml against an XSD with xmllint (Debian libxml2-utils). The test suite
 * sets BOTHWORLDS_JUNIT_SCHEMA to Jenkins xUnit's junit-10 rules, so every JUnit any test writes is
 * checked where it is written, not only the fixtures of one unit test.
 */
export async function assertValidJUnit(path: string, schema: string): Promise<void> {
  const result = await execa('xmllint', ['--noout', '--schema', schema, path], { reject: false, all: true });
  if (result.exitCode !== 0) {
    throw new InfrastructureError('JUNIT_INVALID', `${path} does not validate against ${schema}: ${result.all.split('\n').slice(0, 10).join('\n')}`);
  }
}
