/**
 * The environment a test host's config is parsed from: none of the developer's variables
 * (a test must not pick up their `CCOS_*` settings), only the suite's own diagnostics — the
 * folder where hosts note the statuses they answer (test/support/api-status-coverage.ts) —
 * and `CCOS_UNSAFE_AGENTS=1`: test hosts run workers in the jail wherever it works (CI
 * installs bubblewrap) and fall back to the permission model on a machine without it. The
 * jail's own tests (test/integration/agent/jail/) never fall back.
 */
export function testHostEnv(): NodeJS.ProcessEnv {
  const dir = process.env.CCOS_API_STATUS_LOG_DIR;
  return {
    CCOS_UNSAFE_AGENTS: '1',
    ...(dir === undefined ? {} : { CCOS_API_STATUS_LOG_DIR: dir }),
  };
}
