/**
 * The environment a test host's config is parsed from: none of the developer's variables
 * (a test must not pick up their `CCOS_*` settings), only the suite's own diagnostics — the
 * folder where hosts note the statuses they answer (test/support/api-status-coverage.ts).
 */
export function testHostEnv(): NodeJS.ProcessEnv {
  const dir = process.env.CCOS_API_STATUS_LOG_DIR;
  return dir === undefined ? {} : { CCOS_API_STATUS_LOG_DIR: dir };
}
