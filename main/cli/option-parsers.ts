import { InvalidArgumentError } from 'commander';

/*
 * Parsers for numeric options: a bad value is a usage error (exit 2) with one line saying
 * what the flag takes, raised before anything is sent to the host.
 */

function integer(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `from ${min} to ${max}`;
    throw new InvalidArgumentError(`${flag} takes a whole number ${range}, not "${value}".`);
  }
  return n;
}

/** A count that must be at least 1 (`--max-steps`, `--max-tokens`…). */
export const positiveInt =
  (flag: string) =>
  (value: string): number =>
    integer(flag, value, 1, Number.MAX_SAFE_INTEGER);

/** A count that may be 0 (`--max-retries`). */
export const nonNegativeInt =
  (flag: string) =>
  (value: string): number =>
    integer(flag, value, 0, Number.MAX_SAFE_INTEGER);

/** A page size, as the API accepts it. */
export const pageLimit =
  (flag = '--limit') =>
  (value: string): number =>
    integer(flag, value, 1, 1000);

/** A TCP port; 0 picks a free one. */
export const port =
  (flag = '--port') =>
  (value: string): number =>
    integer(flag, value, 0, 65_535);
