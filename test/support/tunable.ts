/**
 * A test size a person may change through the environment (docs/testing.md): kill counts of
 * crash tests, runs in a soak. `CCOS_TEST_<NAME>` must be a positive integer; the default is
 * what the acceptance asks for, so CI (which sets none) always checks the full size.
 */
export function tunable(name: string, fallback: number): number {
  const raw = process.env[`CCOS_TEST_${name}`];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`CCOS_TEST_${name} must be a positive integer, got "${raw}"`);
  }
  return value;
}
