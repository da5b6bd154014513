import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
    // isolated-vm refuses to start isolates when Node's startup snapshot is in use.
    pool: 'forks',
    execArgv: ['--no-node-snapshot'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    allowOnly: false,
    // Checks at the end that the API description documents every status the hosts answered.
    globalSetup: ['test/support/api-status-coverage.ts'],
  },
});
