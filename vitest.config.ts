import { defineConfig } from 'vitest/config';

/** Settings both projects share. */
const shared = {
  // isolated-vm refuses to start isolates when Node's startup snapshot is in use.
  pool: 'forks',
  execArgv: ['--no-node-snapshot'],
  // Sized for a loaded machine (docs/testing.md): no test waits for time, only for events,
  // so a generous limit only decides how long a real hang takes to be reported.
  testTimeout: 60_000,
  hookTimeout: 60_000,
  allowOnly: false,
} as const;

export default defineConfig({
  test: {
    // Checks at the end that the API description documents every status the hosts answered.
    globalSetup: ['test/support/api-status-coverage.ts'],
    projects: [
      {
        // Unit tests hold no process-wide state, so they share workers instead of paying a
        // fresh one per file (~0.4 s each).
        test: { ...shared, name: 'unit', include: ['test/unit/**/*.test.ts'], isolate: false },
      },
      {
        test: { ...shared, name: 'integration', include: ['test/integration/**/*.test.ts'] },
      },
      {
        // Playwright in Chromium against a real headless host: one browser at a time, since a
        // browser and a host each take a core on the 2-core reference machine.
        test: {
          ...shared,
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          fileParallelism: false,
        },
      },
    ],
  },
});
