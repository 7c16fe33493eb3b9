import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['harness/**/*.test.ts', 'suites/**/*.test.ts', 'test/**/*.test.ts'],
    // Integration tests boot TCG guests; two cores are shared by every file.
    fileParallelism: true,
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
    // Every junit.xml a test writes (in process or through the CLI) is validated against Jenkins xUnit's rules.
    env: { BOTHWORLDS_JUNIT_SCHEMA: fileURLToPath(new URL('./test/fixtures/junit/jenkins-xunit-junit-10.xsd', import.meta.url)) },
  },
});
